"""Pull-request mode: `updater bump --mode pr` (`run_pr`) and `updater rebase` (`run_rebase`).

Settings are built once from the flags and the environment (`PrSettings.from_args`), bad input is
refused before any network call, the token is registered for masking before the first clone, and
then it is: clone the base → `PrLander.land` (regenerate, push with lease, open/refresh the PR) →
print the result (`--json`: the landing report the CI adapters read).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from updater.bump.model import BumpPlan
from updater.bump.report import plan_to_json
from updater.errors import AuthFailed, BadInput, UpdaterError
from updater.forges.base import ForgeTarget, Mergeability, Provider, PullRequest, detect_target, open_provider
from updater.forges.retry import ProviderSettings
from updater.git.credentials import Credentials, resolve_credentials, split_url_credentials
from updater.git.identity import BOT
from updater.git.workspace import Workspace
from updater.landing import pr_body
from updater.landing.pr_flow import PrLander, PrOptions, Proposal
from updater.landing.pr_body import ProposalState, ProposedBump
from updater.landing.result import LandingResult
from updater.landing.settings import identity_from, retry_policy_from_args
from updater.refs import ImageRef

log = logging.getLogger("updater.landing")


@dataclass(frozen=True)
class PrSettings:
    url: str  # the repository URL without credentials
    forge: ForgeTarget  # which API, which project, which token variable (for messages)
    credentials: Credentials  # for git and the API alike
    options: PrOptions  # how the PR is landed (templates, labels, auto-merge, retries...)
    provider: ProviderSettings  # API retry and polling bounds
    base: str | None  # --branch; None: the remote's default branch
    branch_template: str | None  # --pr-branch; None: updater/{base}/{target}
    target: str | None  # --target; None: derived from --path or the image
    images: tuple[str, ...]  # the --image references, validated
    paths: tuple[str, ...]  # --path globs
    source: str | None  # link to the commit that built the image (CI variables)
    pipeline: str | None  # link to this pipeline (CI variables)
    json: bool

    @classmethod
    def from_args(cls, args: argparse.Namespace, env: Mapping[str, str]) -> PrSettings:
        images = tuple(str(ImageRef.parse(image)) for image in getattr(args, "image", None) or ())
        forge = detect_target(split_url_credentials(args.repo)[0], provider=args.provider, api_url=args.api_url,
                              token_env=args.token_env, env=env)
        # The forge's own variable first (a CI job may hold both GITHUB_TOKEN and GITLAB_TOKEN).
        token_env = args.token_env or (forge.token_env if env.get(forge.token_env, "").strip() else None)
        url, credentials = resolve_credentials(args.repo, env, token_env=token_env)
        forge = replace(forge, token_env=(credentials.source or "").removeprefix("$") or forge.token_env)
        if not credentials.token:
            raise AuthFailed(f"no token for the {forge.provider} API: export {forge.token_env} "
                             "(or name another variable with --token-env)")
        retry = retry_policy_from_args(args)
        pr_body.check_templates(title_template=getattr(args, "title", None), body_template=getattr(args, "body", None),
                                branch_template=getattr(args, "pr_branch", None))
        author = identity_from(args.author, "--author", env, "AUTHOR") or BOT
        committer = identity_from(args.committer, "--committer", env, "COMMITTER") or author
        source, pipeline = pr_body.source_links(env)
        options = PrOptions(
            title=getattr(args, "title", None), body=getattr(args, "body", None),
            labels=tuple(getattr(args, "label", ())), reviewers=tuple(getattr(args, "reviewer", ())),
            assignees=tuple(getattr(args, "assignee", ())), draft=bool(getattr(args, "draft", False)),
            auto_merge=bool(getattr(args, "auto_merge", False)),
            merge_method=getattr(args, "merge_method", None) or "squash",
            allow_downgrade=bool(getattr(args, "allow_downgrade", False)),
            allow_missing=bool(getattr(args, "allow_missing", False)),
            validate=not getattr(args, "no_validate", False), dry_run=bool(getattr(args, "dry_run", False)),
            author=author, committer=committer,
            retry=retry,
        )
        provider = ProviderSettings(attempts=min(args.retries, 6), timeout=min(args.retry_timeout, 120.0))
        return cls(url=url, forge=forge, credentials=credentials, options=options, provider=provider,
                   base=args.branch, branch_template=getattr(args, "pr_branch", None),
                   target=getattr(args, "target", None), images=images, paths=tuple(getattr(args, "path", ())),
                   source=source, pipeline=pipeline, json=bool(args.json))


MESSAGE_UNUSED = ("--message is for push mode and is not used with --mode pr: the commit message is the "
                  "PR title (set it with --title) followed by the table of changes")


def run_pr(args: argparse.Namespace) -> int:
    settings = PrSettings.from_args(args, os.environ)
    result = bump_pr(settings)
    if getattr(args, "message", None):
        # The branch commit's message is the PR's state (title, table, marker): it cannot be templated.
        # A warning of the result (not only a log line), so --json and the CI annotations carry it.
        result = replace(result, warnings=(*result.warnings, MESSAGE_UNUSED))
    _print([result], settings, single=True)
    return 0


def run_rebase(args: argparse.Namespace) -> int:
    settings = PrSettings.from_args(args, os.environ)
    results, failures = rebase_all(settings, every=bool(getattr(args, "all", False)))
    _print(results, settings, single=False)
    if failures:
        raise failures[0]
    return 0


def bump_pr(settings: PrSettings) -> LandingResult:
    """Propose `settings.images` in the target's PR (opening, updating or closing it)."""
    if not settings.images:
        raise BadInput("--mode pr needs --image: the new reference(s) to propose")
    with Workspace.clone(settings.url, credentials=settings.credentials, branch=settings.base) as ws:
        provider = _provider(settings)
        target = pr_body.target_name(target=settings.target, paths=settings.paths, images=settings.images)
        app = ImageRef.parse(settings.images[0]).name.rsplit("/", 1)[-1]
        branch = pr_body.branch_name(settings.branch_template, base=ws.branch, target=target, app=app)
        requested = tuple(ProposedBump(image, settings.paths, settings.source, settings.pipeline)
                          for image in settings.images)
        return PrLander(ws, provider, settings.options).land(Proposal(branch, ws.branch, target, requested))


def rebase_all(settings: PrSettings, *, every: bool = False) -> tuple[list[LandingResult], list[UpdaterError]]:
    """Refresh the open updater PRs the forge reports behind or conflicting (with `every`: all whose
    base moved), and close those whose content is already on the base. A PR that merges cleanly is
    left alone: regenerating it would only restart its CI. One PR failing does not keep the others
    stale: its error is returned with the results."""
    prefix = branch_prefix(settings.branch_template)
    results: list[LandingResult] = []
    failures: list[UpdaterError] = []
    with Workspace.clone(settings.url, credentials=settings.credentials, branch=settings.base) as ws:
        provider = _provider(settings)
        lander = PrLander(ws, provider, settings.options)
        ours = [(pr, state) for pr in provider.list_open(head_prefix=prefix)
                if (state := pr_body.parse_marker(pr.body)) is not None]  # skip PRs on matching branches not ours
        # Ask about every PR once first: the forge computes them all while we go through the list.
        first_look = provider.peek_mergeability([pr for pr, _ in ours])
        for pr, state in ours:
            try:
                if _needs_refresh(lander, provider, pr, state, first_look[pr.number], every=every):
                    results.append(lander.land(Proposal(pr.head, pr.base, state.target), known=pr))
                else:
                    results.append(LandingResult("unchanged", BumpPlan(), pr.head, pr.base, pr.head_sha,
                                                 pr_number=pr.number, pr_url=pr.url))
            except UpdaterError as err:
                log.error("pull request #%d (%s): %s", pr.number, pr.head, err)
                failures.append(err)
    return results, failures


def _needs_refresh(lander: PrLander, provider: Provider, pr: PullRequest, state: ProposalState,
                   verdict: Mergeability, *, every: bool) -> bool:
    if lander.on_base(state, pr.base):
        return True  # landing it closes it
    if every and state.base_sha != lander.base_tip(pr.base):
        return True
    if verdict == "unknown":
        verdict = provider.mergeability(pr)
    log.info("pull request #%d (%s): %s", pr.number, pr.head, verdict)
    return verdict in ("behind", "conflicting", "unknown")  # unknown: regenerating is the safe side


def branch_prefix(template: str | None) -> str:
    """The fixed start of PR branch names (`updater/` by default): what `rebase` lists by."""
    text = template or pr_body.DEFAULT_BRANCH_TEMPLATE
    return text.split("{", 1)[0]


def result_to_json(result: LandingResult, *, repo: str, dry_run: bool = False) -> dict[str, Any]:
    """The `--json` report: the plan's report plus the PR (same keys as push mode, plus pr_*)."""
    report = plan_to_json(result.plan, dry_run=dry_run)
    report.update({
        "outcome": result.outcome, "changed": result.changed, "mode": "pr", "repo": repo, "branch": result.branch,
        "base": result.base, "commit_sha": result.commit_sha, "attempts": result.attempts,
        "pr_number": result.pr_number, "pr_url": result.pr_url,
        "superseded": any(w.startswith("superseded") for w in result.warnings),
        "warnings": list(dict.fromkeys([*report["warnings"], *result.warnings])),
    })
    return report


def _provider(settings: PrSettings) -> Provider:
    assert settings.credentials.token  # checked in from_args
    return open_provider(settings.forge, token=settings.credentials.token, settings=settings.provider)


def _print(results: list[LandingResult], settings: PrSettings, *, single: bool) -> None:
    dry_run = settings.options.dry_run
    for warning in dict.fromkeys(w for r in results for w in r.warnings):
        log.warning("warning: %s", warning)
    if settings.json:
        reports = [result_to_json(r, repo=settings.url, dry_run=dry_run) for r in results]
        print(json.dumps(reports[0] if single else {"pull_requests": reports}, indent=2))
        return
    for r in results:
        what = f"pull request #{r.pr_number} {r.pr_url}" if r.pr_number else f"branch {r.branch}"
        print(f"{r.outcome}{' (dry run)' if dry_run else ''}: {what} ({r.branch} -> {r.base}"
              f"{', commit ' + r.commit_sha[:12] if r.commit_sha else ''})", file=sys.stdout)
