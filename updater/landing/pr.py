"""Pull-request mode: `updater bump --mode pr` (`propose`) and `updater rebase` (`run_rebase`).

Settings are built once from the request and the environment (`PrSettings.from_request`), bad input is
refused before any network call, the token is registered for masking before the first clone, and
then it is: clone the base → `PrLander.land` (regenerate, push with lease, open/refresh the PR) →
print the result (`--json`: the landing report the CI adapters read).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, cast

from updater.bump.model import BumpPlan
from updater.errors import AuthFailed, BadInput, UpdaterError
from updater.auth import AppOptions, RepoAuth, open_api, repo_auth
from updater.forges.base import (
    ForgeTarget,
    Mergeability,
    MergeMethod,
    Provider,
    PullRequest,
    detect_target,
)
from updater.forges.settings import ProviderSettings
from updater.git.credentials import Credentials, split_url_credentials
from updater.git.signing import CommitSigning, load_signing
from updater.git.workspace import Workspace
from updater.landing import pr_body
from updater.landing.api_commit import API, check_forge, warn_author
from updater.landing.output import Landed, print_pr, render_pr
from updater.landing.pr_body import ProposalState, ProposedBump
from updater.landing.pr_flow import PrLander, PrOptions, Proposal
from updater.landing.result import LandingResult
from updater.landing.settings import identity, retry_settings, schema_version
from updater.options.request import BumpRequest
from updater.refs import ImageRef
from updater.retry import API_RETRY

if TYPE_CHECKING:
    from updater.forges.github_app import InstallationTokens

log = logging.getLogger("updater.landing")

MESSAGE_UNUSED = ("--message is for push mode and is not used with --mode pr: the commit message is the "
                  "PR title (set it with --title) followed by the table of changes")


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
    every: bool = False  # rebase --all
    app: InstallationTokens | None = None  # GitHub App auth: API and git use its installation tokens
    signing: CommitSigning | None = None  # --sign: every commit of the PR branch is signed

    @classmethod
    def from_request(cls, request: BumpRequest, env: Mapping[str, str], *,
                     auth: RepoAuth | None = None) -> PrSettings:
        """`auth`: a GitHub App's credentials the caller already holds for the repository (reused)."""
        if request.repo is None:
            raise BadInput("--repo is required for pull-request mode")
        images = tuple(str(ImageRef.parse(image)) for image in request.image)
        forge = detect_target(split_url_credentials(request.repo)[0], provider=request.provider,
                              api_url=request.api_url, token_env=request.token_env, env=env)
        if request.commit_via == API:  # GitHub's mutation: refused on another forge before any token is read
            check_forge(forge, request.repo)
            warn_author(request)
        signing = load_signing(request.sign, key_env=request.signing_key_env, env=env)  # before any request
        app = AppOptions.from_values(vars(request), env)
        if app.given:
            if auth is None or auth.app is None or auth.forge is None:
                auth = repo_auth(request.repo, env, token_env=request.token_env, app=app,
                                 provider=request.provider, api_url=request.api_url)
            assert auth.forge is not None  # App auth always knows its forge
            url, credentials, forge = auth.url, auth.credentials, auth.forge
        else:
            # The forge's own variable first (a CI job may hold both GITHUB_TOKEN and GITLAB_TOKEN).
            token_env = request.token_env or (forge.token_env if env.get(forge.token_env, "").strip() else None)
            auth = repo_auth(request.repo, env, token_env=token_env, app=app)
            url, credentials = auth.url, auth.credentials
            forge = replace(forge, token_env=(credentials.source or "").removeprefix("$") or forge.token_env)
        if not credentials.token:
            raise AuthFailed(f"no token for the {forge.provider} API: export {forge.token_env} "
                             "(or name another variable with --token-env)")
        retry = retry_settings(request)
        pr_body.check_templates(title_template=request.title, body_template=request.body,
                                branch_template=request.pr_branch)
        author = identity(request.author, "--author")
        source, pipeline = pr_body.source_links(env)
        options = PrOptions(
            title=request.title, body=request.body, labels=request.label, reviewers=request.reviewer,
            assignees=request.assignee, draft=request.draft, auto_merge=request.auto_merge,
            merge_method=cast(MergeMethod, request.merge_method), allow_downgrade=request.allow_downgrade,
            allow_missing=request.allow_missing, validate=not request.no_validate, dry_run=request.dry_run,
            kube_version=schema_version(request),
            author=author, committer=identity(request.committer, "--committer") or author, retry=retry,
            governance=request.governance, commit_via=request.commit_via,
        )
        api = ProviderSettings(retry=replace(API_RETRY, attempts=min(request.retries, API_RETRY.attempts),
                                             timeout=min(request.retry_timeout, API_RETRY.timeout)),
                               pipeline_wait=min(request.retry_timeout, ProviderSettings.pipeline_wait))
        return cls(url=url, forge=forge, credentials=credentials, options=options, provider=api,
                   base=request.branch, branch_template=request.pr_branch, target=request.target, images=images,
                   paths=request.path, source=source, pipeline=pipeline, json=request.json, every=request.all,
                   app=auth.app, signing=signing)


def propose(request: BumpRequest, env: Mapping[str, str], *, auth: RepoAuth | None = None) -> Landed:
    """`updater bump --mode pr` up to the print: the PR opened, updated or closed, and its report."""
    settings = PrSettings.from_request(request, env, auth=auth)
    result = bump_pr(settings)
    if request.message:
        # The branch commit's message is the PR's state (title, table, marker): it cannot be templated.
        # A warning of the result (not only a log line), so --json and the CI annotations carry it.
        result = replace(result, warnings=(*result.warnings, MESSAGE_UNUSED))
    return render_pr([result], repo=settings.url, dry_run=settings.options.dry_run, single=True)


def run_rebase(request: BumpRequest, env: Mapping[str, str]) -> int:
    settings = PrSettings.from_request(request, env)
    results, failures = rebase_all(settings, every=settings.every)
    _print(results, settings, single=False)
    if failures:
        raise failures[0]
    return 0


def bump_pr(settings: PrSettings) -> LandingResult:
    """Propose `settings.images` in the target's PR (opening, updating or closing it)."""
    if not settings.images:
        raise BadInput("--mode pr needs --image: the new reference(s) to propose")
    with Workspace.clone(settings.url, credentials=settings.credentials, branch=settings.base,
                         signing=settings.signing) as ws:
        provider = api_provider(settings)
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
    with Workspace.clone(settings.url, credentials=settings.credentials, branch=settings.base,
                         signing=settings.signing) as ws:
        provider = api_provider(settings)
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


def api_provider(settings: PrSettings, *, permission: str | None = None) -> Provider:
    """The forge API client of these settings (a GitHub App's installation auth when they have one);
    `permission`: what a 403 names the App as needing (default: what a PR-mode bump needs)."""
    auth = RepoAuth(settings.url, settings.credentials, settings.app, settings.forge)
    return open_api(settings.forge, auth, settings=settings.provider, permission=permission)


def _print(results: list[LandingResult], settings: PrSettings, *, single: bool) -> None:
    print_pr(results, repo=settings.url, dry_run=settings.options.dry_run, as_json=settings.json, single=single)
