"""`--commit-via api`, the publishing part of the landing skeleton: instead of a local commit and
`git push`, GitHub makes the bump commit (`updater.forges.github_commits`) and signs it. Everything
else of a landing — refresh, re-apply, decide, retry — stays the skeleton's, so a race is the same
`PushRejected` either way and retries from the fresh tip.

- push mode: one call, `createCommitOnBranch` on the branch with `expectedHeadOid` = the tip the
  plan was made on;
- pull-request mode: the branch is *replaced* by one commit on the base tip (as `git push
  --force-with-lease` does), but `createCommitOnBranch` can only append to a branch. So the commit is
  made on a scratch branch created at the base tip, then one atomic `updateRefs` moves the PR branch
  to it (compare-and-swap on the head this attempt read; "must not exist" for a new branch) and
  deletes the scratch branch: three calls. The PR branch never points at the bare base tip (GitHub
  would mark an open PR whose head is on its base as merged) nor at a commit without updater's
  state marker.

The author is whoever the token authenticates (GitHub's rule for this mutation); `--author` and
`--committer` cannot apply, and a run that sets them says so in a warning.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from updater.bump.model import BumpPlan
from updater.errors import AuthFailed, BadInput
from updater.forges.base import ForgeTarget, Provider, detect_target
from updater.forges.settings import ProviderSettings
from updater.git.credentials import Credentials, split_url_credentials
from updater.options.request import BumpRequest
from updater.retry import API_RETRY

if TYPE_CHECKING:
    from updater.forges.github_commits import GitHubCommits

log = logging.getLogger("updater.landing")

API = "api"
SCRATCH_PREFIX = "updater-scratch/"  # outside the PR branches' `updater/` prefix: `rebase` never lists them
AUTHOR_IGNORED = ("--commit-via api: GitHub sets the commit's author from the token (its user or app) and the "
                  "committer to GitHub itself; --author/--committer are not used")


def check_forge(forge: ForgeTarget, repo: str) -> None:
    """api mode is GitHub's mutation: any other forge is bad input (exit 2), before any clone."""
    if forge.provider != "github":
        raise BadInput(f"--commit-via api: GitHub creates and signs commits through its API, and {repo} is a "
                       f"{forge.provider} repository; use --commit-via git")


def push_target(request: BumpRequest, env: Mapping[str, str], credentials: Credentials) -> ForgeTarget | None:
    """Push mode's GitHub API target for `--commit-via api` (None for git): push mode otherwise
    needs no API, so the forge is only detected here."""
    if request.commit_via != API:
        return None
    assert request.repo is not None  # checked by the caller
    forge = detect_target(split_url_credentials(request.repo)[0], provider=request.provider, api_url=request.api_url,
                          token_env=request.token_env, env=env)
    check_forge(forge, request.repo)
    if not credentials.token:
        raise AuthFailed(f"--commit-via api needs a token for the GitHub API: export {forge.token_env} "
                         "(or name another variable with --token-env)")
    warn_author(request)
    return replace(forge, token_env=(credentials.source or "").removeprefix("$") or forge.token_env)


def warn_author(request: BumpRequest) -> None:
    if request.commit_via == API and (request.author or request.committer):
        log.warning("%s", AUTHOR_IGNORED)


def api_settings(request: BumpRequest) -> ProviderSettings:
    """The API bounds, capped by the CLI's own retry bounds (as pull-request mode does)."""
    return ProviderSettings(retry=replace(API_RETRY, attempts=min(request.retries, API_RETRY.attempts),
                                          timeout=min(request.retry_timeout, API_RETRY.timeout)))


def commits_of(provider: Provider) -> GitHubCommits:
    """Pull-request mode: the commits API on the provider's client (checked GitHub by `check_forge`)."""
    from updater.forges.github import GitHubProvider
    from updater.forges.github_commits import GitHubCommits

    github: object = provider  # the Protocol's signatures are looser than the class's: compare as objects
    if not isinstance(github, GitHubProvider):
        raise BadInput(f"--commit-via api: GitHub only, and this is a {provider.name} repository; use --commit-via git")
    return GitHubCommits(github)


def commit_on(commits: GitHubCommits, *, branch: str, tip: str, message: str, plan: BumpPlan) -> str:
    """Push mode: GitHub appends the bump to `branch`, whose head must still be `tip` (else `PushRejected`)."""
    created = commits.commit(branch=branch, expected_head=tip, message=message, files=plan.new_contents)
    log.info("GitHub committed %s on %s (%s)", created.oid[:12], branch, tip[:12])
    return created.oid


def replace_branch(commits: GitHubCommits, *, branch: str, base_sha: str, expected: str | None, message: str,
                   plan: BumpPlan) -> str:
    """Pull-request mode: `branch` becomes one GitHub-made commit on `base_sha`, if it still points at
    `expected` (None: it must not exist). `PushRejected` when another run got there first."""
    from updater.forges.github_commits import ZERO, RefMove

    scratch = f"{SCRATCH_PREFIX}{secrets.token_hex(8)}"
    commits.create_branch(scratch, at=base_sha)
    try:
        created = commits.commit(branch=scratch, expected_head=base_sha, message=message, files=plan.new_contents)
        commits.move_refs(created.repository_id, [RefMove(branch, expected or ZERO, created.oid),
                                                  RefMove(scratch, created.oid, ZERO)])
    except BaseException:
        _drop(commits, scratch)
        raise
    log.info("GitHub committed %s on the base tip %s; %s points at it", created.oid[:12], base_sha[:12], branch)
    return created.oid


def _drop(commits: GitHubCommits, scratch: str) -> None:
    """Remove the scratch branch after a failed attempt; failing that is only a warning (the bump's
    own error is the one to report)."""
    try:
        commits.delete_branch(scratch)
    except Exception as err:  # noqa: BLE001 - a leftover scratch branch must not hide the real failure
        log.warning("could not delete the scratch branch %s: %s", scratch, err)
