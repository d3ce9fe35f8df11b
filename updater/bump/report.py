"""Presenting a plan to people: a unified diff and a one-line summary. (The `--json` report of
every mode is `updater.report.Report`.) Pure.
"""

from __future__ import annotations

import difflib

from updater.bump.model import BumpPlan


def plan_diff(plan: BumpPlan) -> str:
    """`git diff`-style unified diff of every file the plan changes ('' when none)."""
    parts: list[str] = []
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
