"""Presenting a plan: a unified diff for people, a plain dict for `--json` and the CI adapters.

`plan_to_json` builds the local-mode report; the push and pull-request modes extend the same dict
(outcome, commit, PR...), so it stays a plain builder. Pure.
"""

from __future__ import annotations

import difflib
from typing import Any

from updater.bump.model import BumpPlan, Change


def change_to_json(change: Change) -> dict[str, Any]:
    return {
        "path": change.path,
        "file": change.path,  # same as path: the name the issue uses
        "line": change.line,
        "kind": change.kind,
        "image": change.image,
        "old": change.old,
        "new": change.new,
    }


def plan_to_json(plan: BumpPlan, *, dry_run: bool = False) -> dict[str, Any]:
    return {
        "outcome": "changed" if plan.changes else "unchanged",
        "changed": bool(plan.changes),
        "dry_run": dry_run,
        "changes": [change_to_json(c) for c in plan.changes],
        "changed_files": list(plan.files),
        "current": [change_to_json(c) for c in plan.current],
        "warnings": list(plan.warnings),
    }


def plan_diff(plan: BumpPlan) -> str:
    """`git diff`-style unified diff of every file the plan changes ('' when none)."""
    parts = []
    for path in plan.files:
        old = plan.old_contents[path].decode("utf-8").splitlines(keepends=True)
        new = plan.new_contents[path].decode("utf-8").splitlines(keepends=True)
        lines = difflib.unified_diff(old, new, f"a/{path}", f"b/{path}", n=3)
        parts.extend(_terminated(line) for line in lines)
    return "".join(parts)


def summary(plan: BumpPlan, *, dry_run: bool) -> str:
    """One line for the log: what happened (or would), or why nothing did."""
    if not plan.changes:
        if plan.current:
            images = sorted({c.image for c in plan.current})
            return f"already current: {', '.join(images)} ({len(plan.current)} reference(s)); nothing to change"
        return "nothing to change"
    verb = "would bump" if dry_run else "bumped"
    return f"{verb} {len(plan.changes)} reference(s) in {len(plan.files)} file(s)"


def _terminated(line: str) -> str:
    if line.endswith("\n"):
        return line
    return line + "\n\\ No newline at end of file\n"
