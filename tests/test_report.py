"""updater.report: the one report every output reads — its JSON per mode (keys and order are the
documented output), and the round trip the CI adapters make from the CLI's stdout."""

from __future__ import annotations

import json

from updater.bump.model import BumpPlan, Change
from updater.ci.report import parse_report
from updater.landing.result import LandingResult, pr_report, push_report
from updater.report import Report

CHANGE = Change("a.yaml", 2, "container", "ghcr.io/acme/api", "ghcr.io/acme/api:1", "ghcr.io/acme/api:2")
PLAN = BumpPlan(changes=(CHANGE,), new_contents={"a.yaml": b"b"}, old_contents={"a.yaml": b"a"}, warnings=("w1",))
PLAN_KEYS = ["outcome", "changed", "dry_run", "changes", "changed_files", "current", "warnings"]


def test_local_json_is_the_plan() -> None:
    report = Report.of_plan(PLAN, dry_run=True).to_json()
    assert report == {
        "outcome": "changed", "changed": True, "dry_run": True,
        "changes": [{"path": "a.yaml", "file": "a.yaml", "line": 2, "kind": "container", "image": "ghcr.io/acme/api",
                     "old": "ghcr.io/acme/api:1", "new": "ghcr.io/acme/api:2"}],
        "changed_files": ["a.yaml"], "current": [], "warnings": ["w1"],
    }
    assert Report.of_plan(BumpPlan()).to_json()["outcome"] == "unchanged"


def test_push_json_adds_the_landing_keys_in_order() -> None:
    result = LandingResult("pushed", PLAN, "main", "main", "c0ffee", attempts=3, warnings=("superseded: x",),
                           superseded=True)
    data = push_report(result, repo="https://h/acme/gitops.git", dry_run=False).to_json()
    assert list(data) == [*PLAN_KEYS, "mode", "repo", "branch", "base", "commit_sha", "attempts", "superseded"]
    assert (data["outcome"], data["changed"], data["attempts"], data["superseded"]) == ("pushed", True, 3, True)
    assert data["warnings"] == ["w1", "superseded: x"]
    dry = push_report(LandingResult("unchanged", PLAN, "main", "main"), repo="r", dry_run=True).to_json()
    assert (dry["outcome"], dry["changed"], dry["dry_run"]) == ("changed", True, True)  # the plan's, in a dry run


def test_pr_json_adds_the_pull_request_and_dedupes_warnings() -> None:
    result = LandingResult("created", PLAN, "updater/main/api", "main", "c0ffee", pr_number=7, pr_url="https://h/pull/7",
                           warnings=("w1", "w2"))
    data = pr_report(result, repo="r", dry_run=False).to_json()
    assert list(data) == [*PLAN_KEYS, "mode", "repo", "branch", "base", "commit_sha", "attempts", "pr_number",
                          "pr_url", "superseded"]
    assert data["warnings"] == ["w1", "w2"] and data["pr_number"] == 7 and data["mode"] == "pr"


def test_the_ci_adapters_read_back_the_same_report() -> None:
    result = LandingResult("created", PLAN, "updater/main/api", "main", "c0ffee", pr_number=7, pr_url="https://h/pull/7")
    report = pr_report(result, repo="r", dry_run=False)
    assert parse_report(json.loads(json.dumps(report.to_json()))) == report
    dry = parse_report(Report.of_plan(PLAN, dry_run=True).to_json())
    assert (dry.outcome, dry.changed, dry.changed_files) == ("dry-run", False, ("a.yaml",))
