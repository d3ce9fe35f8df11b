"""The report step of a landing run: log lines on stderr, and on stdout the diff or the `--json`
report (`updater.report.Report`, the one type every output reads).

Each mode's result is first rendered into a `Landed` (the report `--json` prints, and the text
printed without it), then `emit` prints it: `updater bump` emits one, `updater watch` gathers one
per target into its own report. stdout bypasses the logging filter, so `emit` masks it (a manifest
may hold a token in clear).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from updater.bump.model import BumpPlan
from updater.bump.report import plan_diff, summary
from updater.landing.result import LandingResult, pr_report, push_report
from updater.landing.settings import LandingSettings
from updater.report import Report
from updater.secrets import mask

log = logging.getLogger("updater.landing")


@dataclass(frozen=True)
class Landed:
    """What one bump prints: `report` with --json, `text` without (both unmasked until `emit`)."""

    report: dict[str, Any]
    text: str


def emit(landed: Landed, *, as_json: bool) -> None:
    sys.stdout.write(mask(json.dumps(landed.report, indent=2) + "\n" if as_json else landed.text))


def render_local(plan: BumpPlan, *, dry_run: bool) -> Landed:
    return Landed(Report.of_plan(plan, dry_run=dry_run).to_json(), plan_diff(plan))


def render_push(result: LandingResult, settings: LandingSettings) -> Landed:
    dry_run = settings.dry_run
    for warning in result.plan.warnings:
        log.warning("warning: %s", warning)
    if result.outcome == "pushed":
        log.info("pushed %s to %s on %s (attempt %d/%d): %s", (result.commit_sha or "")[:12], result.branch,
                 settings.repo_url, result.attempts, settings.retry.attempts, summary(result.plan, dry_run=False))
    elif not dry_run and not result.warnings:
        log.info("%s: %s; no commit", result.branch, summary(result.plan, dry_run=False))
    elif dry_run:
        log.info("%s on %s: %s", settings.repo_url, result.branch, summary(result.plan, dry_run=True))
    return Landed(push_report(result, repo=settings.repo_url, dry_run=dry_run).to_json(), plan_diff(result.plan))


def render_pr(results: Sequence[LandingResult], *, repo: str, dry_run: bool, single: bool) -> Landed:
    for warning in dict.fromkeys(w for r in results for w in r.warnings):
        log.warning("warning: %s", warning)
    reports = [pr_report(r, repo=repo, dry_run=dry_run).to_json() for r in results]
    lines = []
    for r in results:
        what = f"pull request #{r.pr_number} {r.pr_url}" if r.pr_number else f"branch {r.branch}"
        lines.append(f"{r.outcome}{' (dry run)' if dry_run else ''}: {what} ({r.branch} -> {r.base}"
                     f"{', commit ' + r.commit_sha[:12] if r.commit_sha else ''})\n")
    return Landed(reports[0] if single else {"pull_requests": reports}, "".join(lines))


def print_pr(results: Sequence[LandingResult], *, repo: str, dry_run: bool, as_json: bool, single: bool) -> None:
    emit(render_pr(results, repo=repo, dry_run=dry_run, single=single), as_json=as_json)
