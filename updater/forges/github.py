"""GitHub provider: pull requests through PyGithub (the one module importing it: `github_app` and
`github_commits` take PyGithub's names from here).

REST for pulls, labels, reviewers, comments; GraphQL `enablePullRequestAutoMerge` for auto-merge.
PyGithub's own retry and request throttling are off (`retry=None`, no sleeps between requests):
`updater.retry.retry_api` retries instead, honouring `Retry-After`, `x-ratelimit-reset`
and the secondary-limit 403s. Every PyGithub or network exception is translated to updater's errors
here, with the token variable and the permission needed named in auth failures.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar

import requests
from github import Auth, Github, GithubException, GithubIntegration
from github.GithubObject import NotSet as _UNSET  # PyGithub's "argument not given"
from github.PullRequest import PullRequest as GhPull

from updater.errors import AuthFailed, BadInput, TransientRemoteError, UpdaterError
from updater.forges.base import (
    SECONDARY_LIMIT_WAIT,
    AutoMergeUnavailable,
    CommitStatus,
    ForgeRefused,
    ForgeTarget,
    HeadMoved,
    Mergeability,
    MergeMethod,
    PullRequest,
    error_for_status,
    retry_after,
)
from updater.forges.settings import ProviderSettings, poll
from updater.retry import call_with_retries, retry_api

# PyGithub's names the App auth module uses (this module is the library's one door)
__all__ = ["Auth", "GithubException", "GithubIntegration", "GitHubProvider"]

T = TypeVar("T")

# What a token needs for everything the bot does (named in 403 messages).
PERMISSION = "fine-grained: Pull requests + Contents read/write (classic: the repo scope)"

_STATES: dict[str, Mergeability] = {
    "clean": "clean", "has_hooks": "clean", "unstable": "clean",
    "behind": "behind", "dirty": "conflicting",
    "blocked": "blocked", "draft": "blocked", "unknown": "unknown",
}


class GitHubProvider:
    name = "github"

    def __init__(self, target: ForgeTarget, *, token: str, settings: ProviderSettings,
                 auth: Auth.Auth | None = None, permission: str = PERMISSION) -> None:
        """`auth`: another PyGithub auth than the token (a GitHub App installation's, which
        refreshes itself); `permission`: what a 403 says the credentials need."""
        self.target = target
        self.settings = settings
        self.permission = permission
        self._client = Github(
            auth=auth or Auth.Token(token), base_url=target.api_url, timeout=int(max(1, settings.request_timeout)),
            retry=None, seconds_between_requests=None, seconds_between_writes=None, lazy=True,
            per_page=100,
        )
        self._repo = self._client.get_repo(target.project)  # lazy: no request until used
        self._pulls: dict[int, GhPull] = {}  # full objects seen this run: no re-GET before editing

    # -- reads ---------------------------------------------------------------------------------
    def find_open(self, *, head: str) -> PullRequest | None:
        owner = self.target.project.split("/", 1)[0]
        pulls = self._call(f"list pull requests for {head}",
                           lambda: list(self._repo.get_pulls(state="open", head=f"{owner}:{head}")))
        found = [self._remember(p) for p in pulls if p.head.ref == head]
        return min(found, key=lambda p: p.number) if found else None

    def list_open(self, *, head_prefix: str) -> list[PullRequest]:
        pulls = self._call("list open pull requests", lambda: list(self._repo.get_pulls(state="open")))
        return sorted((self._remember(p) for p in pulls if p.head.ref.startswith(head_prefix)),
                      key=lambda p: p.number)

    def mergeability(self, pr: PullRequest) -> Mergeability:
        def read() -> Mergeability | None:
            fresh = self._call(f"read pull request #{pr.number}", lambda: self._fetch(pr.number))
            if fresh.mergeable is None or fresh.mergeable_state == "unknown":
                return None  # GitHub is still computing (a push just happened)
            return _STATES.get(fresh.mergeable_state, "blocked")

        return poll(self.settings, read) or "unknown"

    def peek_mergeability(self, prs: Sequence[PullRequest]) -> dict[int, Mergeability]:
        """All in one GraphQL query (aliases), instead of one REST GET per pull request."""
        if not prs:
            return {}
        owner, _, name = self.target.project.partition("/")
        fields = " ".join(f"p{pr.number}: pullRequest(number: {pr.number}) {{ number mergeStateStatus }}" for pr in prs)
        query = f"query($owner: String!, $name: String!) {{ repository(owner: $owner, name: $name) {{ {fields} }} }}"
        requester = self._client.requester
        _, data = self._call("read mergeability", lambda: requester.graphql_query(query, {"owner": owner, "name": name}))
        found = (data.get("data") or {}).get("repository") or {}
        states = {int(v["number"]): str(v.get("mergeStateStatus") or "unknown").lower() for v in found.values() if v}
        return {pr.number: _STATES.get(states.get(pr.number, "unknown"), "unknown") for pr in prs}

    # -- writes --------------------------------------------------------------------------------
    def create(self, *, head: str, base: str, title: str, body: str, draft: bool) -> PullRequest:
        def call() -> GhPull:
            return self._repo.create_pull(base=base, head=head, title=title, body=body, draft=draft)

        try:
            return self._remember(self._call(f"open a pull request from {head}", call))
        except AuthFailed as err:
            # 403 with only a message: GitHub Actions' GITHUB_TOKEN where the repository (or its
            # organisation) does not let Actions open pull requests.
            if "not permitted to create or approve pull requests" not in str(err):
                raise
            raise AuthFailed(
                f"{err}; turn on \"Allow GitHub Actions to create and approve pull requests\" (repository, or "
                "organisation, Settings > Actions > General > Workflow permissions), or use a token or GitHub App "
                f"in {self.target.token_env} that may open pull requests") from err

    def update(self, pr: PullRequest, *, title: str, body: str) -> PullRequest:
        raw = self._raw(pr)
        self._call(f"update pull request #{pr.number}", lambda: raw.edit(title=title, body=body))
        return self._remember(raw)

    def add_labels(self, pr: PullRequest, labels: Sequence[str]) -> None:
        if labels:
            self._call(f"label pull request #{pr.number}", lambda: self._raw(pr).add_to_labels(*labels))

    def request_reviewers(self, pr: PullRequest, users: Sequence[str]) -> None:
        if users:
            try:
                self._call(f"request reviewers on #{pr.number}",
                           lambda: self._raw(pr).create_review_request(reviewers=list(users)))
            except ForgeRefused as err:
                if err.status != 422:
                    raise
                raise ForgeRefused(
                    f"{err}; reviewers must have collaborator access to {self.target.project} (Settings > "
                    "Collaborators and teams, or an organisation team with access); the pull request is fine "
                    "without them", status=err.status) from err

    def add_assignees(self, pr: PullRequest, users: Sequence[str]) -> None:
        if users:
            self._call(f"assign #{pr.number}", lambda: self._raw(pr).add_to_assignees(*users))

    def comment(self, pr: PullRequest, text: str) -> None:
        self._call(f"comment on #{pr.number}", lambda: self._raw(pr).create_issue_comment(text))

    def commit_statuses(self, sha: str) -> list[CommitStatus]:
        def read() -> list[CommitStatus]:
            latest: dict[str, CommitStatus] = {}
            for raw in self._repo.get_commit(sha).get_statuses():  # newest first
                latest.setdefault(raw.context, CommitStatus(
                    raw.context, raw.state, raw.description or "", raw.target_url or "",
                    raw.updated_at.isoformat() if raw.updated_at else ""))
            return list(latest.values())

        return self._call(f"read the statuses of commit {sha[:12]}", read)

    def close(self, pr: PullRequest, *, comment: str) -> None:
        self.comment(pr, comment)
        self._call(f"close #{pr.number}", lambda: self._raw(pr).edit(state="closed"))

    def enable_auto_merge(self, pr: PullRequest, *, method: MergeMethod) -> None:
        """Raises `HeadMoved` when GitHub's head of the PR is not `pr.head_sha` (refused
        expectedHeadOid): the caller knows whether that is lag after our push or a newer push."""
        raw = self._raw(pr)
        try:
            try:
                self._call(f"enable auto-merge on #{pr.number}", lambda: raw.enable_automerge(
                    merge_method=method.upper(), expected_head_oid=pr.head_sha or _UNSET))
            except BadInput as err:
                text = str(err).lower()
                if "expected head" in text:  # GraphQL gives no code for it, only this message
                    raise HeadMoved(f"enable auto-merge on {pr.url}: {err}") from err
                if "protected branch rules not configured" in text:
                    raise AutoMergeUnavailable(
                        f"auto-merge could not be enabled on {pr.url}: GitHub allows auto-merge only on a "
                        f"protected base branch; add a branch protection rule (or ruleset) for {pr.base} "
                        "with the checks to wait for (Settings > Branches); the pull request stays open") from err
                if not any(f"{state} status" in text for state in ("clean", "unstable", "has_hooks")):
                    raise
                # Nothing to wait for: GitHub refuses auto-merge and wants a plain merge.
                self._call(f"merge #{pr.number}", lambda: raw.merge(merge_method=method, sha=pr.head_sha or _UNSET))
        except BadInput as err:
            raise AutoMergeUnavailable(
                f"auto-merge could not be enabled on {pr.url}: {err}; allow auto-merge (and the "
                f"{method} method) in the repository settings; the pull request stays open"
            ) from err

    def head_of(self, pr: PullRequest) -> PullRequest:
        """The PR as GitHub shows it now (its head may lag a push by seconds)."""
        return self._remember(self._call(f"read pull request #{pr.number}", lambda: self._fetch(pr.number)))

    # -- for `updater.forges.github_commits` (verified commits through the same client) --------
    @property
    def repository(self) -> Any:
        return self._repo

    @property
    def requester(self) -> Any:
        return self._client.requester

    def call(self, what: str, call: Callable[[], T]) -> T:
        """`call` under this provider's API retry policy, PyGithub's errors translated."""
        return self._call(what, call)

    def branch_head(self, branch: str) -> str | None:
        """The commit `branch` points at, or None when it does not exist (REST `GET git/ref`)."""
        def read() -> str | None:
            try:
                return str(self._repo.get_git_ref(f"heads/{branch}").object.sha)
            except GithubException as err:
                if err.status == 404:
                    return None
                raise

        return self._call(f"read branch {branch}", read)

    # -- plumbing ------------------------------------------------------------------------------
    def _fetch(self, number: int) -> GhPull:
        raw = self._repo.get_pull(number)
        raw._completeIfNeeded()  # lazy object: force the GET inside the retried call
        self._pulls[number] = raw
        return raw

    def _raw(self, pr: PullRequest) -> GhPull:
        return self._pulls.get(pr.number) or self._call(f"read pull request #{pr.number}", lambda: self._fetch(pr.number))

    def _remember(self, raw: GhPull) -> PullRequest:
        self._pulls[raw.number] = raw
        state: Literal["open", "closed", "merged"] = (  # merged_at is in list answers; merged is not
            "merged" if raw.merged_at else ("open" if raw.state == "open" else "closed"))
        return PullRequest(
            number=raw.number, url=raw.html_url, head=raw.head.ref, base=raw.base.ref, title=raw.title,
            body=raw.body or "", state=state, head_sha=raw.head.sha, draft=bool(raw.draft),
            labels=tuple(label.name for label in raw.labels),
            auto_merge=raw._rawData["auto_merge"] is not None if "auto_merge" in raw._rawData else None,
        )

    def _call(self, what: str, call: Callable[[], T]) -> T:
        def translated() -> T:
            try:
                return call()
            except GithubException as err:
                raise self._translate(what, err) from err
            except requests.exceptions.RequestException as err:
                raise TransientRemoteError(f"GitHub API: {what}: {type(err).__name__}") from err

        return call_with_retries(lambda _: translated(), retry_api(self.settings.retry), what=f"GitHub API: {what}")

    def _translate(self, what: str, err: GithubException) -> UpdaterError:
        headers = {k.lower(): v for k, v in (err.headers or {}).items()}
        detail = _message(err)
        limited = err.status in (403, 429) and _is_rate_limit(headers, detail)
        hint = retry_after(headers, reset="x-ratelimit-reset", exhausted=headers.get("x-ratelimit-remaining") == "0")
        # A secondary limit says so only in its message; without Retry-After GitHub's guidance is a minute.
        secondary = limited and "secondary rate limit" in detail.lower()
        return error_for_status(
            err.status, detail, where=f"GitHub API ({self.target.api_url}, {self.target.project}): {what}",
            target=self.target, permission=self.permission, rate_limited=limited, at_least=secondary,
            retry_after=SECONDARY_LIMIT_WAIT if secondary and hint is None else hint,
            exists=err.status == 422 and "already exists" in detail.lower(),
        )


def _message(err: GithubException) -> str:
    data: Any = err.data
    if isinstance(data, dict):
        parts = [str(data.get("message", ""))]
        for item in data.get("errors") or []:
            parts.append(str(item.get("message", item)) if isinstance(item, dict) else str(item))
        return "; ".join(p for p in parts if p) or str(err.status)
    return err.message or str(err.status)


def _is_rate_limit(headers: dict[str, str], detail: str) -> bool:
    return headers.get("x-ratelimit-remaining") == "0" or "rate limit" in detail.lower() or "retry-after" in headers
