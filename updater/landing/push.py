"""Push mode: clone, bump, commit and push straight to the branch, winning every race.

`land(settings)` is the reusable core: clone → plan → validate → apply → commit → push. When the
push is rejected because the branch moved (or the network failed), the next attempt fetches the new
tip, resets to it and **re-applies the bump from scratch** — never a textual rebase, so there is no
conflict to resolve — under the `retry_transient` policy. At every attempt the engine's rules hold:

- the tip already carries the bump (another pipeline pushed the same image) → outcome "unchanged",
  no commit, exit 0;
- the tip carries a *newer* version: if it did so the first time we could plan, this is a plain
  downgrade request → the engine's PolicyRefused (exit 4, as in local mode); if an earlier attempt
  planned the bump on an older tip, a concurrent newer bump won the race while we retried →
  "unchanged" with a "superseded" warning, exit 0, nothing pushed.

A run that fails (or is killed) pushes nothing: the only remote write is one atomic ref update.
`run_push(args)` is the CLI entry (dispatched from `updater.commands.bump`).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from dataclasses import replace

from updater.bump.engine import apply_plan, plan_bump, validate_plan
from updater.bump.model import BumpPlan
from updater.bump.report import plan_diff, plan_to_json, summary
from updater.errors import PolicyRefused
from updater.git.identity import BOT, Identity
from updater.git.workspace import Workspace
from updater.landing.message import render_message
from updater.landing.result import LandingResult
from updater.landing.retry import call_with_retries, retry_transient
from updater.landing.settings import LandingSettings, settings_from_args
from updater.manifests.locate import KUSTOMIZATION_NAMES
from updater.secrets import mask

log = logging.getLogger("updater.landing")

SUPERSEDED = "superseded"  # marker at the start of the warning when a newer bump won the race


def run_push(args: argparse.Namespace) -> int:
    settings = settings_from_args(args, os.environ)
    if settings.dry_run:
        plan, branch = preview(settings)
        _print(LandingResult("unchanged", plan, branch, branch), settings, dry_run=True)
        return 0
    result = land(settings)
    _print(result, settings, dry_run=False)
    return 0


def open_workspace(settings: LandingSettings) -> Workspace:
    """The clone every mode starts from: shallow; with --path globs, partial + sparse, and the sparse
    set also holds every kustomization file (a few small files) so validation can see them."""
    sparse = (*settings.paths, *(f"**/{name}" for name in KUSTOMIZATION_NAMES)) if settings.paths else ()
    return Workspace.clone(settings.repo_url, credentials=settings.credentials, branch=settings.branch,
                           sparse=sparse, timeout=settings.git_timeout, parent=settings.workdir)


def plan_on(workspace: Workspace, settings: LandingSettings) -> BumpPlan:
    """Plan the bump on the clone as it is now (read only; the engine's downgrade rule applies)."""
    return plan_bump(workspace.root, settings.images, paths=settings.paths,
                     allow_downgrade=settings.allow_downgrade, allow_missing=settings.allow_missing)


def apply_and_commit(workspace: Workspace, settings: LandingSettings, plan: BumpPlan) -> str:
    """Validate (unless --no-validate), write and commit `plan`; returns the commit sha.
    The author is `settings.author` (see `with_identity`), else the bot."""
    if settings.validate:
        _complete_for_validation(workspace)
        validate_plan(workspace.root, plan)
    apply_plan(workspace.root, plan)
    author = settings.author or BOT
    message = render_message(settings.message_template, plan, settings.requested, settings.ci)
    return workspace.commit(message, files=plan.files, author=author, committer=settings.committer or author)


def preview(settings: LandingSettings) -> tuple[BumpPlan, str]:
    """--dry-run: the plan on the current tip (validated), and the branch; nothing is written."""
    with open_workspace(settings) as workspace:
        plan = plan_on(workspace, settings)
        if plan.changes and settings.validate:
            _complete_for_validation(workspace)
            validate_plan(workspace.root, plan)
        return plan, workspace.branch


def land(settings: LandingSettings) -> LandingResult:
    """Land the bump on the branch; see the module docstring for the rules at each attempt."""
    run = _Run(settings)
    try:
        return call_with_retries(run.attempt, retry_transient(settings.retry),
                                 what=f"landing the bump on {settings.repo_url}")
    finally:
        run.close()


class _Run:
    """The state carried between attempts: the workspace, and the last commit we tried to push."""

    def __init__(self, settings: LandingSettings) -> None:
        self.settings = settings
        self.workspace: Workspace | None = None
        self.last_commit: str | None = None
        self.last_plan = BumpPlan()
        self.planned = False  # an earlier attempt had a valid plan on an older tip

    def close(self) -> None:
        if self.workspace is not None:
            self.workspace.close()

    def attempt(self, number: int) -> LandingResult:
        settings = self.settings
        if self.workspace is None:
            self.workspace = open_workspace(settings)
            tip = self.workspace.head()
            self.settings = settings = with_identity(settings, self.workspace)
        else:
            tip = self.workspace.refresh()
        workspace, branch = self.workspace, self.workspace.branch
        if self.last_commit == tip:  # our earlier push landed although its answer was lost
            return LandingResult("pushed", self.last_plan, branch, branch, tip, attempts=number)
        try:
            plan = plan_on(workspace, settings)
        except PolicyRefused as refusal:
            if not self.planned:  # the branch was already newer when we first looked: a plain downgrade
                raise
            warning = f"{SUPERSEDED}: a newer version is already on {branch} (pushed while this run retried): {refusal}"
            log.warning("%s", warning)
            return LandingResult("unchanged", BumpPlan(), branch, branch, tip, attempts=number, warnings=(warning,))
        self.planned = True
        if not plan.changes:
            return LandingResult("unchanged", plan, branch, branch, tip, attempts=number)
        self.last_plan = plan
        self.last_commit = apply_and_commit(workspace, settings, plan)
        workspace.push()
        return LandingResult("pushed", plan, branch, branch, self.last_commit, attempts=number)


def _complete_for_validation(workspace: Workspace) -> None:
    """A Kustomize build needs files outside the --path globs (bases, components, patches): in a
    sparse clone of a tree that has kustomizations, check out the whole tree before validating.
    Without kustomizations validation builds nothing, and the sparse clone stays sparse."""
    if workspace.sparse and any(next(workspace.root.rglob(name), None) for name in KUSTOMIZATION_NAMES):
        log.info("validation needs the whole tree (kustomizations present): leaving the sparse checkout")
        workspace.widen()


def with_identity(settings: LandingSettings, workspace: Workspace) -> LandingSettings:
    """`settings` with the author resolved once per run: the flag / GIT_AUTHOR_* environment, else
    user.name / user.email from git config as the clone sees it, else the bot."""
    if settings.author is not None:
        return settings
    name, email = workspace.config("user.name"), workspace.config("user.email")
    return replace(settings, author=Identity(name, email) if name and email else BOT)


def result_to_json(result: LandingResult, settings: LandingSettings, *, dry_run: bool) -> dict[str, object]:
    """The `--json` report: the plan's report (updater.bump.report) plus what landing did."""
    report = plan_to_json(result.plan, dry_run=dry_run)
    if not dry_run:
        report["outcome"] = result.outcome
        report["changed"] = result.changed
    report.update({
        "mode": "push",
        "repo": settings.repo_url,
        "branch": result.branch,
        "base": result.base,
        "commit_sha": result.commit_sha,
        "attempts": result.attempts,
        "superseded": any(w.startswith(SUPERSEDED) for w in result.warnings),
        "warnings": [*report["warnings"], *result.warnings],  # type: ignore[misc]
    })
    return report


def _print(result: LandingResult, settings: LandingSettings, *, dry_run: bool) -> None:
    for warning in result.plan.warnings:
        log.warning("warning: %s", warning)
    if result.outcome == "pushed":
        log.info("pushed %s to %s on %s (attempt %d/%d): %s", (result.commit_sha or "")[:12], result.branch,
                 settings.repo_url, result.attempts, settings.retry.attempts, summary(result.plan, dry_run=False))
    elif not dry_run and not result.warnings:
        log.info("%s: %s; no commit", result.branch, summary(result.plan, dry_run=False))
    elif dry_run:
        log.info("%s on %s: %s", settings.repo_url, result.branch, summary(result.plan, dry_run=True))
    # stdout bypasses the logging filter: mask it here (a manifest may hold a token in clear)
    if settings.json:
        print(mask(json.dumps(result_to_json(result, settings, dry_run=dry_run), indent=2)))
    else:
        sys.stdout.write(mask(plan_diff(result.plan)))


