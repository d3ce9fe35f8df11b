"""What one landing produced (`LandingResult`, with the plan it landed), and its conversion to the
run's one report (`updater.report.Report`), which every output reads: `--json`, the GitHub Actions
outputs and step summary, the GitLab dotenv report, the demo's story."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from updater.bump.model import BumpPlan
from updater.report import Report

Outcome = Literal[
    "pushed",  # push mode: a commit landed on the branch
    "created",  # pr mode: a new pull/merge request was opened
    "updated",  # pr mode: an existing updater PR was regenerated / retitled
    "unchanged",  # nothing to do: the branch (or the open PR) already has the bump
    "closed",  # pr mode: the PR's content is already on the base; it was closed
    "merged",  # pr mode: opened or updated, then merged during this run (auto-merge with nothing to wait for)
]


@dataclass(frozen=True)
class LandingResult:
    outcome: Outcome
    plan: BumpPlan
    branch: str  # the branch pushed to (push mode) or the PR's head branch (pr mode)
    base: str  # the target branch
    commit_sha: str | None = None  # the commit that carries the bump, if any
    attempts: int = 1  # push attempts it took (races and transient failures)
    pr_number: int | None = None
    pr_url: str | None = None
    warnings: tuple[str, ...] = field(default=())
    superseded: bool = False  # a newer bump won the race while this run retried (see landing.skeleton)

    @property
    def changed(self) -> bool:
        return self.outcome in ("pushed", "created", "updated", "merged")

    @property
    def changed_files(self) -> tuple[str, ...]:
        return self.plan.files


def push_report(result: LandingResult, *, repo: str, dry_run: bool) -> Report:
    """Push mode's report. A dry run keeps the plan's outcome (changed/unchanged): nothing landed."""
    plan = Report.of_plan(result.plan, dry_run=dry_run)
    outcome, changed = (plan.outcome, plan.changed) if dry_run else (result.outcome, result.changed)
    return Report(outcome=outcome, changed=changed, changes=plan.changes, changed_files=plan.changed_files,
                  current=plan.current, warnings=(*plan.warnings, *result.warnings), dry_run=dry_run,
                  mode="push", repo=repo, branch=result.branch, base=result.base, commit_sha=result.commit_sha,
                  attempts=result.attempts, superseded=result.superseded)


def pr_report(result: LandingResult, *, repo: str, dry_run: bool) -> Report:
    """Pull-request mode's report (one per PR for `updater rebase`)."""
    plan = result.plan
    return Report(outcome=result.outcome, changed=result.changed, changes=plan.changes, changed_files=plan.files,
                  current=plan.current, warnings=tuple(dict.fromkeys([*plan.warnings, *result.warnings])),
                  dry_run=dry_run, mode="pr", repo=repo, branch=result.branch, base=result.base,
                  commit_sha=result.commit_sha, attempts=result.attempts, pr_number=result.pr_number,
                  pr_url=result.pr_url, superseded=result.superseded)
