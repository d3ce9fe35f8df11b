"""The diff view of a plan and the one-line summary (the JSON report: tests/test_report.py)."""

from __future__ import annotations

from updater.bump.model import BumpPlan, Change
from updater.bump.report import plan_diff, summary

CHANGE = Change("a.yaml", 2, "container", "ghcr.io/acme/api", "ghcr.io/acme/api:1", "ghcr.io/acme/api:2")


def plan(old: bytes, new: bytes) -> BumpPlan:
    return BumpPlan(changes=(CHANGE,), new_contents={"a.yaml": new}, old_contents={"a.yaml": old})


def test_diff_is_git_style_and_marks_a_missing_final_newline() -> None:
    diff = plan_diff(plan(b"x: 1\nimage: ghcr.io/acme/api:1", b"x: 1\nimage: ghcr.io/acme/api:2"))
    assert diff == (
        "--- a/a.yaml\n+++ b/a.yaml\n@@ -1,2 +1,2 @@\n x: 1\n"
        "-image: ghcr.io/acme/api:1\n\\ No newline at end of file\n"
        "+image: ghcr.io/acme/api:2\n\\ No newline at end of file\n"
    )
    assert plan_diff(BumpPlan()) == ""


def test_summary_says_what_happened() -> None:
    assert summary(plan(b"a", b"b"), dry_run=False) == "bumped 1 reference(s) in 1 file(s)"
    assert summary(plan(b"a", b"b"), dry_run=True) == "would bump 1 reference(s) in 1 file(s)"
    assert summary(BumpPlan(current=(CHANGE,)), dry_run=False).startswith("already current: ghcr.io/acme/api")
    assert summary(BumpPlan(), dry_run=False) == "nothing to change"
