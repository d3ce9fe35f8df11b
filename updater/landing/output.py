"""The report step of a landing run: log lines on stderr, and on stdout the diff or the `--json`
report (`updater.report.Report`, the one type every output reads).

stdout bypasses the logging filter, so it is masked here (a manifest may hold a token in clear).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence

from updater.bump.report import plan_diff, summary
from updater.landing.result import LandingResult, pr_report, push_report
from updater.landing.settings import LandingSettings
from updater.secrets import mask

log = logging.getLogger("updater.landing")


def print_push(result: LandingResult, settings: LandingSettings) -> None:
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
    if settings.json:
        report = push_report(result, repo=settings.repo_url, dry_run=dry_run)
        print(mask(json.dumps(report.to_json(), indent=2)))
    else:
        sys.stdout.write(mask(plan_diff(result.plan)))


def print_pr(results: Sequence[LandingResult], *, repo: str, dry_run: bool, as_json: bool, single: bool) -> None:
    for warning in dict.fromkeys(w for r in results for w in r.warnings):
        log.warning("warning: %s", warning)
    if as_json:
        reports = [pr_report(r, repo=repo, dry_run=dry_run).to_json() for r in results]
        print(json.dumps(reports[0] if single else {"pull_requests": reports}, indent=2))
        return
    for r in results:
        what = f"pull request #{r.pr_number} {r.pr_url}" if r.pr_number else f"branch {r.branch}"
        print(f"{r.outcome}{' (dry run)' if dry_run else ''}: {what} ({r.branch} -> {r.base}"
              f"{', commit ' + r.commit_sha[:12] if r.commit_sha else ''})", file=sys.stdout)
