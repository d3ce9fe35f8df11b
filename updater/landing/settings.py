"""Settings of one landing run (push mode; pull-request mode reuses the shared part), built once
from the resolved request and the environment mapping, then passed down.

Building them is also the early validation: image references, identities, the message template
and the retry bounds fail here (BadInput, exit 2) and tokens are registered for masking — all
before the first clone. The environment is a mapping handed in by the command; nothing here or
below reads `os.environ`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from updater.bump.governance import Governance
from updater.bump.kube_schema import resolve_version
from updater.errors import BadInput
from updater.auth import AppOptions, RepoAuth, repo_auth
from updater.forges.base import ForgeTarget
from updater.forges.settings import ProviderSettings
from updater.git.credentials import Credentials
from updater.git.identity import Identity
from updater.landing.api_commit import api_settings, push_target
from updater.git.signing import CommitSigning, load_signing
from updater.landing.message import DEFAULT_TEMPLATE, CiContext, check_template, ci_context
from updater.options.request import BumpRequest
from updater.refs import ImageRef
from updater.retry import RetrySettings


@dataclass(frozen=True)
class LandingSettings:
    repo_url: str  # without credentials (they moved to `credentials`)
    credentials: Credentials
    images: tuple[ImageRef, ...]
    requested: tuple[str, ...]  # the --image texts as given, for messages
    branch: str | None = None  # None: the remote's default branch
    paths: tuple[str, ...] = ()  # --path globs; also the sparse checkout
    allow_downgrade: bool = False  # an older pipeline finishing late must not undo a newer bump
    allow_missing: bool = False  # finding nothing usually means a wrong --image or --path
    validate: bool = True  # never push manifests that no longer build
    kube_version: str | None = None  # the Kubernetes schemas validation checks objects against (None: none)
    message_template: str = DEFAULT_TEMPLATE
    author: Identity | None = None  # None: git config of the clone, then updater-bot (landing.author)
    committer: Identity | None = None  # None: the author
    retry: RetrySettings = field(default_factory=RetrySettings)
    ci: CiContext = field(default_factory=CiContext)
    git_timeout: float = 120.0  # one git command; a hung transfer counts as transient and retries
    dry_run: bool = False
    json: bool = False
    workdir: Path | None = None  # where the temporary clone goes (None: the system temp dir)
    governance: Governance | None = None  # the repository's policy: checked on every plan, before a push
    # --commit-via api: the GitHub repository whose API makes the commit (None: git commit + push)
    api_forge: ForgeTarget | None = None
    api: ProviderSettings = field(default_factory=ProviderSettings)
    auth: RepoAuth | None = None  # how the API authenticates (a GitHub App's tokens, refreshed per request)
    signing: CommitSigning | None = None  # --sign: every commit signed (the key checked before the clone)


def settings_from_request(request: BumpRequest, env: Mapping[str, str], *,
                          auth: RepoAuth | None = None) -> LandingSettings:
    """Validate the request of `updater bump --repo ... --mode push` and read the environment, once.
    `auth`: a GitHub App's credentials the caller already holds for the repository (reused)."""
    if request.repo is None:
        raise BadInput("--repo is required for push mode")
    if not request.image:
        raise BadInput("--image is required: give the new reference, e.g. --image ghcr.io/acme/api:1.4.2")
    images = tuple(ImageRef.parse(text) for text in request.image)
    template = request.message or DEFAULT_TEMPLATE
    check_template(template)
    signing = load_signing(request.sign, key_env=request.signing_key_env, env=env)  # before any request
    # a GitHub App's installation tokens (refreshed before each git command) or the token; the key is
    # read and the installation found here, before the first clone (a revoked one: exit 6)
    app = AppOptions.from_values(vars(request), env)
    if auth is None or auth.app is None or not app.given:
        auth = repo_auth(request.repo, env, token_env=request.token_env, app=app, provider=request.provider,
                         api_url=request.api_url)
    url, credentials = auth.url, auth.credentials
    api_forge = push_target(request, env, credentials)
    return LandingSettings(
        repo_url=url,
        credentials=credentials,
        images=images,
        requested=request.image,
        branch=request.branch or None,
        paths=request.path,
        allow_downgrade=request.allow_downgrade,
        allow_missing=request.allow_missing,
        validate=not request.no_validate,
        kube_version=schema_version(request),
        message_template=template,
        author=identity(request.author, "--author"),
        committer=identity(request.committer, "--committer"),
        retry=retry_settings(request),
        ci=ci_context(env),
        dry_run=request.dry_run,
        json=request.json,
        governance=request.governance,
        api_forge=api_forge,
        api=api_settings(request),
        auth=auth,
        signing=signing,
    )


def schema_version(request: BumpRequest) -> str | None:
    """The Kubernetes version whose schemas validation uses (None: off), checked before any clone:
    an unknown --kube-version is bad input (exit 2) listing the bundled versions."""
    return resolve_version(request.kube_version,
                           enabled=not request.no_validate and not request.no_schema_validation)


def retry_settings(request: BumpRequest) -> RetrySettings:
    """The race/transient retry bounds from --retries/--retry-timeout/--retry-wait/--retry-wait-max
    (shared by push mode, PR mode and `updater rebase`)."""
    retries, timeout, wait = request.retries, request.retry_timeout, request.retry_wait
    if retries < 1:
        raise BadInput(f"--retries {retries}: give at least 1 (1 means no retry)")
    if timeout <= 0:
        raise BadInput(f"--retry-timeout {timeout:g}: give a positive number of seconds")
    if wait < 0:
        raise BadInput(f"--retry-wait {wait:g}: give zero or more seconds")
    return RetrySettings(attempts=retries, timeout=timeout, wait_base=wait, wait_max=max(wait, request.retry_wait_max),
                         limits=f"--retries {retries}, --retry-timeout {timeout:g}")


def identity(text: str | None, flag: str) -> Identity | None:
    """The identity the request names (flag, else GIT_<ROLE>_NAME/EMAIL, resolved by the options
    table), or None: then the clone's git config decides (`updater.landing.skeleton.author_for`)."""
    return Identity.parse(text, flag=flag) if text else None
