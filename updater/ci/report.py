"""Run `updater bump --json` as a child process and read its JSON report back into the CLI's own
report type (`updater.report.Report`, here named `BumpReport`).

Why a child process rather than an in-process call: the action and the GitLab job then run exactly
the command a user would type, with its own logging, masking and exit codes, and the JSON report
(the CLI's public, documented output) is the only contract between the bump and the CI adapters.
Parsing is pure (`parse_report`); `run_bump` is the one I/O edge.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from updater import proc
from updater.bump.model import Change
from updater.report import Report


# The CLI's report type is the CI adapters' too: one type from `--json` to the outputs.
BumpReport = Report
ReportChange = Change


@dataclass(frozen=True)
class BumpRun:
    exit_code: int
    report: BumpReport | None  # None when the CLI failed before printing a report
    stderr: str  # the CLI's log lines (already masked by the CLI)


def parse_report(data: Mapping[str, Any]) -> BumpReport:
    """The report from the CLI's `--json` object (`updater.report.Report.to_json`), as CI sees it:
    a dry run says what it *would* do, so for CI nothing changed (outcome "dry-run")."""
    report = Report.from_json(data)
    return replace(report, outcome="dry-run", changed=False) if report.dry_run else report


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
