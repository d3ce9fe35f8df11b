"""Settings of one landing run (push mode; pull-request mode reuses the shared part), built once
from the parsed flags and the environment, then passed down. Nothing deeper reads `os.environ`.

Building them is also the early validation: image references, identities, the message template
and the retry bounds fail here (BadInput, exit 2) and tokens are registered for masking — all
before the first clone.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from updater.errors import BadInput
from updater.git.credentials import Credentials, resolve_credentials
from updater.git.identity import Identity
from updater.landing.message import DEFAULT_TEMPLATE, CiContext, check_template, ci_context
from updater.landing.retry import RetryPolicy
from updater.refs import ImageRef


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
    message_template: str = DEFAULT_TEMPLATE
    author: Identity | None = None  # None: git config of the clone, then updater-bot
    committer: Identity | None = None  # None: the author
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    ci: CiContext = field(default_factory=CiContext)
    git_timeout: float = 120.0  # one git command; a hung transfer counts as transient and retries
    dry_run: bool = False
    json: bool = False
    workdir: Path | None = None  # where the temporary clone goes (None: the system temp dir)


def settings_from_args(args: argparse.Namespace, env: Mapping[str, str]) -> LandingSettings:
    """Validate the flags of `updater bump --repo ...` and read the environment, once."""
    url, credentials = resolve_credentials(args.repo, env, token_env=getattr(args, "token_env", None))
    if not args.image:
        raise BadInput("--image is required: give the new reference, e.g. --image ghcr.io/acme/api:1.4.2")
    template = args.message or DEFAULT_TEMPLATE
    check_template(template)
    author = identity_from(args.author, "--author", env, "AUTHOR")
    committer = identity_from(args.committer, "--committer", env, "COMMITTER")
    return LandingSettings(
        repo_url=url,
        credentials=credentials,
        images=tuple(ImageRef.parse(text) for text in args.image),
        requested=tuple(args.image),
        branch=args.branch or None,
        paths=tuple(args.path),
        allow_downgrade=args.allow_downgrade,
        allow_missing=args.allow_missing,
        validate=not args.no_validate,
        message_template=template,
        author=author,
        committer=committer,
        retry=retry_policy_from_args(args),
        ci=ci_context(env),
        dry_run=args.dry_run,
        json=args.json,
    )


def retry_policy_from_args(args: argparse.Namespace) -> RetryPolicy:
    """The race/transient retry bounds from --retries/--retry-timeout/--retry-wait/--retry-wait-max
    (shared by push mode, PR mode and `updater rebase`; see updater.commands.options)."""
    retries, timeout = args.retries, args.retry_timeout
    wait = RetryPolicy.wait_base if args.retry_wait is None else args.retry_wait
    wait_max = max(wait, RetryPolicy.wait_max if args.retry_wait_max is None else args.retry_wait_max)
    if retries < 1:
        raise BadInput(f"--retries {retries}: give at least 1 (1 means no retry)")
    if timeout <= 0:
        raise BadInput(f"--retry-timeout {timeout:g}: give a positive number of seconds")
    if wait < 0:
        raise BadInput(f"--retry-wait {wait:g}: give zero or more seconds")
    return RetryPolicy(attempts=retries, timeout=timeout, wait_base=wait, wait_max=wait_max)


def identity_from(flag_value: str | None, flag: str, env: Mapping[str, str], role: str) -> Identity | None:
    """The flag, else git's own GIT_<ROLE>_NAME / GIT_<ROLE>_EMAIL variables, else None."""
    if flag_value:
        return Identity.parse(flag_value, flag=flag)
    name, email = env.get(f"GIT_{role}_NAME"), env.get(f"GIT_{role}_EMAIL")
    return Identity(name, email) if name and email else None
