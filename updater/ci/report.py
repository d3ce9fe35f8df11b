"""Run `updater bump --json` as a child process and read its JSON report into a `BumpReport`.

Why a child process rather than an in-process call: the action and the GitLab job then run exactly
the command a user would type, with its own logging, masking and exit codes, and the JSON report
(the CLI's public, documented output) is the only contract between the bump and the CI adapters.
Parsing is pure (`parse_report`); `run_bump` is the one I/O edge.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from updater import proc


@dataclass(frozen=True)
class ReportChange:
    path: str
    line: int
    kind: str
    image: str
    old: str
    new: str


@dataclass(frozen=True)
class BumpReport:
    outcome: str  # LandingResult.outcome in repo modes; "changed"/"unchanged" in local mode; "dry-run"
    changed: bool
    changes: tuple[ReportChange, ...] = ()
    changed_files: tuple[str, ...] = ()
    commit_sha: str | None = None
    pr_url: str | None = None
    pr_number: int | None = None
    branch: str | None = None
    base: str | None = None
    dry_run: bool = False
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class BumpRun:
    exit_code: int
    report: BumpReport | None  # None when the CLI failed before printing a report
    stderr: str  # the CLI's log lines (already masked by the CLI)


def parse_report(data: Mapping[str, Any]) -> BumpReport:
    """The report from the CLI's `--json` object: `updater.bump.report.plan_to_json`, extended by the
    landing modes (`outcome`, `commit_sha`, `pr_url`, `pr_number`, `branch`, `base`)."""
    changes = tuple(
        ReportChange(
            path=str(c["path"]), line=int(c.get("line") or 0), kind=str(c.get("kind", "")),
            image=str(c.get("image", "")), old=str(c.get("old", "")), new=str(c.get("new", "")),
        )
        for c in data.get("changes", ())
    )
    files = tuple(data.get("changed_files") or sorted({c.path for c in changes}))
    outcome = str(data.get("outcome") or ("changed" if files else "unchanged"))
    changed = bool(files) if data.get("changed") is None else bool(data["changed"])
    dry_run = bool(data.get("dry_run", False))
    if dry_run:  # every mode says what it *would* do; for CI nothing changed (the files would)
        outcome, changed = "dry-run", False
    number = data.get("pr_number")
    return BumpReport(
        outcome=outcome,
        changed=changed,
        changes=changes,
        changed_files=files,
        commit_sha=data.get("commit_sha") or None,
        pr_url=data.get("pr_url") or None,
        pr_number=int(number) if number not in (None, "") else None,
        branch=data.get("branch") or None,
        base=data.get("base") or None,
        dry_run=dry_run,
        warnings=tuple(str(w) for w in data.get("warnings", ())),
    )


def error_line(stderr: str) -> str | None:
    """The CLI's one-line error (`updater: error: ...`), without the prefix."""
    for line in reversed(stderr.splitlines()):
        if line.startswith("updater: error: "):
            return line.removeprefix("updater: error: ")
    return None


def run_bump(argv: Sequence[str], *, env: Mapping[str, str], timeout: float = 3600.0) -> BumpRun:
    """`updater bump <argv> --json` in a child process with `env` added to the environment."""
    done = proc.run(
        [sys.executable, "-m", "updater", "bump", *argv, "--json"], env=env, timeout=timeout, check=False,
    )
    report = None
    if done.out.strip():
        try:
            report = parse_report(json.loads(done.out))
        except (ValueError, KeyError, TypeError):
            report = None
    return BumpRun(exit_code=done.returncode, report=report, stderr=done.err)
