"""What the pull-request mode needs from a forge, and how to pick one from a repository URL.

The Protocol below is the whole surface a provider implements (one module per forge, registered in
`PROVIDERS`); the rest of this module is pure: values in, values out, no network. Providers raise
only updater's errors (`AuthFailed`, `BadInput`, `TransientRemoteError`...), never their client's.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Literal, Protocol
from urllib.parse import urlsplit, urlunsplit

from updater.errors import AuthFailed, BadInput, RemoteError, TransientRemoteError, UpdaterError

ProviderName = Literal["github", "gitlab"]
MergeMethod = Literal["merge", "squash", "rebase"]
# What a reviewer would see: clean = can merge now; behind = base moved, no conflict;
# conflicting = base moved and the change no longer applies; blocked = checks/approvals pending;
# unknown = the forge was still computing when our polling bound ran out.
Mergeability = Literal["clean", "behind", "conflicting", "blocked", "unknown"]

# provider name -> "module:factory"; a third forge is one module plus one line here.
PROVIDERS: dict[str, str] = {
    "github": "updater.forges.github:GitHubProvider",
    "gitlab": "updater.forges.gitlab:GitLabProvider",
}

DEFAULT_TOKEN_ENV: dict[str, str] = {"github": "GITHUB_TOKEN", "gitlab": "GITLAB_TOKEN"}


@dataclass(frozen=True)
class ForgeTarget:
    """Which forge API to call and which project on it; built once from flags and CI variables."""

    provider: ProviderName
    api_url: str  # GitHub: REST base (https://api.github.com, https://ghe/api/v3); GitLab: server URL
    project: str  # "owner/repo" (GitHub) or "group/sub/project" (GitLab)
    token_env: str  # the variable the token came from: named in every auth error


@dataclass(frozen=True)
class PullRequest:
    """A pull request (GitHub) or merge request (GitLab), as much of it as the bot reads."""

    number: int  # GitHub number, GitLab iid
    url: str  # the page a human opens
    head: str  # source branch
    base: str  # target branch
    title: str
    body: str
    state: Literal["open", "closed", "merged"]
    head_sha: str | None = None
    draft: bool = False
    labels: tuple[str, ...] = ()
    auto_merge: bool | None = None  # the forge says auto-merge is on; None: not read


# GitHub's guidance for a secondary rate limit answered without Retry-After: wait at least a minute.
SECONDARY_LIMIT_WAIT = 60.0


@dataclass(frozen=True)
class CommitStatus:
    """One commit status (GitHub) or commit status / external job (GitLab): the agent reports each
    cluster's sync and health as `updater/<cluster>`. `state` in GitHub's words
    (success, failure, error, pending); `updated` as the forge gives it (ISO 8601)."""

    context: str
    state: str
    description: str = ""
    target_url: str = ""
    updated: str = ""


class RateLimited(TransientRemoteError):
    """The forge asked us to slow down; `retry_after` (seconds) is its own hint when it gave one.
    `at_least`: the hint is a minimum the forge demands (a secondary limit): retrying sooner only
    prolongs the limit, so the retry loop waits it in full, within its time budget."""

    def __init__(self, message: str, *, retry_after: float | None = None, at_least: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.at_least = at_least


class ForgeRefused(BadInput):
    """A 4xx the forge gave for a request it will not do as sent; `status` is its HTTP status, for
    callers that decide on it (GitLab's 405 to auto-merge without a pipeline, 409 on a moved head)."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class HeadMoved(RemoteError):
    """The forge's head of the PR is not the commit we asked about: a newer run pushed, or (GitHub)
    the PR still shows the head before our push for a few seconds. The caller tells which."""


class AlreadyExists(RemoteError):
    """An open PR for this head branch already exists (another run created it first)."""


class AutoMergeUnavailable(RemoteError):
    """The repository does not allow auto-merge (or the method); the PR stays open, said clearly."""


class Provider(Protocol):
    """One forge project. Every method retries transient failures itself (bounded, logged)."""

    name: ProviderName
    target: ForgeTarget

    def find_open(self, *, head: str) -> PullRequest | None:
        """The open PR whose source branch is `head`, if any."""

    def list_open(self, *, head_prefix: str) -> list[PullRequest]:
        """Every open PR whose source branch starts with `head_prefix`."""

    def create(self, *, head: str, base: str, title: str, body: str, draft: bool) -> PullRequest:
        """Open a PR; raises `AlreadyExists` when one is open for `head`."""

    def update(self, pr: PullRequest, *, title: str, body: str) -> PullRequest: ...

    def add_labels(self, pr: PullRequest, labels: Sequence[str]) -> None: ...

    def request_reviewers(self, pr: PullRequest, users: Sequence[str]) -> None: ...

    def add_assignees(self, pr: PullRequest, users: Sequence[str]) -> None: ...

    def comment(self, pr: PullRequest, text: str) -> None: ...

    def enable_auto_merge(self, pr: PullRequest, *, method: MergeMethod) -> None:
        """Merge once checks pass; raises `AutoMergeUnavailable` when the repository forbids it."""

    def mergeability(self, pr: PullRequest) -> Mergeability:
        """Polls (bounded) while the forge is still computing; `unknown` if it never settles."""

    def peek_mergeability(self, prs: Sequence[PullRequest]) -> dict[int, Mergeability]:
        """One cheap read for many PRs (no polling): `unknown` where the forge is still computing."""

    def close(self, pr: PullRequest, *, comment: str) -> None: ...

    def commit_statuses(self, sha: str) -> list[CommitStatus]:
        """The latest status per context on commit `sha` (newest first)."""


def error_for_status(status: int, detail: str, *, where: str, target: ForgeTarget, permission: str,
                     rate_limited: bool = False, retry_after: float | None = None,
                     exists: bool = False, at_least: bool = False) -> UpdaterError:
    """The updater error for a forge's HTTP failure: rate limits and 5xx retry (transient); 401, 403
    and 404 fail at once naming the token variable and the permission; other 4xx are bad input.
    `status` 0 means no answer at all (a dropped connection the client reported as an error)."""
    if rate_limited or status == 429:
        if at_least:
            return RateLimited(f"{where}: secondary rate limit ({detail}); GitHub asks to wait at least "
                               f"{retry_after or SECONDARY_LIMIT_WAIT:.0f} s before trying again",
                               retry_after=retry_after, at_least=True)
        return RateLimited(f"{where}: rate limited ({detail})", retry_after=retry_after)
    if status == 401:
        return AuthFailed(f"{where}: the token in {target.token_env} was rejected (401); "
                          "set it to a valid, unexpired token")
    if status == 403:
        return AuthFailed(f"{where}: forbidden (403: {detail}); the token in {target.token_env} needs {permission}")
    if status == 404:
        return BadInput(f"{where}: not found (404); check --repo/--api-url, and that the token in "
                        f"{target.token_env} can see the project ({permission})")
    if exists:
        return AlreadyExists(f"{where}: {detail}")
    if status >= 500 or status in (0, 408):
        return TransientRemoteError(f"{where}: server error {status or detail}")
    if 400 <= status < 500:
        return ForgeRefused(f"{where}: refused ({status}: {detail})", status=status)
    return RemoteError(f"{where}: unexpected answer {status}")


def retry_after(headers: Mapping[str, str], *, reset: str, exhausted: bool = True) -> float | None:
    """Seconds the forge asks us to wait: `Retry-After` first (secondary limits, 429), else the
    epoch in the `reset` header (x-ratelimit-reset / RateLimit-Reset) when the quota is `exhausted`.
    Header names are lower-case."""
    try:
        if value := headers.get("retry-after"):
            if value.strip().isdigit():
                return float(value)
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())  # the HTTP-date form
        if exhausted and (epoch := headers.get(reset)):
            return max(0.0, float(epoch) - time.time())
    except (ValueError, TypeError):
        return None
    return None


def detect_target(
    repo_url: str,
    *,
    provider: str | None = None,
    api_url: str | None = None,
    token_env: str | None = None,
    env: Mapping[str, str] = {},
) -> ForgeTarget:
    """The forge behind `repo_url`: from flags first, then CI variables, then well-known hosts."""
    parts = urlsplit(repo_url if "://" in repo_url else _scp_to_url(repo_url))
    host = (parts.hostname or "").lower()
    server = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}" if parts.scheme in ("http", "https") else f"https://{host}"
    name = provider or _provider_from_ci(repo_url, env) or _provider_from_host(host) or _provider_from_api(api_url)
    if name is None:
        raise BadInput(
            f"--repo {repo_url}: cannot tell whether this is GitHub or GitLab; "
            "add --provider github|gitlab (and --api-url for a self-hosted server)"
        )
    if name not in PROVIDERS:
        raise BadInput(f"--provider {name}: unknown forge; choose one of {', '.join(sorted(PROVIDERS))}")
    project = parts.path.strip("/").removesuffix(".git")
    if name == "gitlab":
        project = project.split("/-/", 1)[0]
    if project.count("/") < 1:
        raise BadInput(f"--repo {repo_url}: expected a project path like owner/repo in the URL")
    return ForgeTarget(
        provider=name,  # type: ignore[arg-type]  # checked against PROVIDERS above
        api_url=_api_url(name, api_url, server=server, host=host, env=env),
        project=project,
        token_env=token_env or DEFAULT_TOKEN_ENV[name],
    )


def open_provider(target: ForgeTarget, *, token: str, settings: object) -> Provider:
    """Import the provider's module only now (PyGithub / python-gitlab are slow to import)."""
    module_name, _, factory = PROVIDERS[target.provider].partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, factory)(target, token=token, settings=settings)  # type: ignore[no-any-return]


def _scp_to_url(url: str) -> str:
    """git@host:owner/repo.git -> ssh://git@host/owner/repo.git"""
    user_host, _, path = url.partition(":")
    return f"ssh://{user_host}/{path}"


def _provider_from_ci(repo_url: str, env: Mapping[str, str]) -> str | None:
    for variable, name in (("GITHUB_SERVER_URL", "github"), ("CI_SERVER_URL", "gitlab")):
        server = env.get(variable, "").rstrip("/")
        if server and urlsplit(server).hostname == urlsplit(repo_url).hostname:
            return name
    return None


def _provider_from_host(host: str) -> str | None:
    if host == "github.com" or host.startswith("github."):
        return "github"
    if host == "gitlab.com" or host.startswith("gitlab."):
        return "gitlab"
    return None


def _provider_from_api(api_url: str | None) -> str | None:
    """An --api-url ending in /api/v3 is GitHub (Enterprise), one ending in /api/v4 GitLab."""
    path = urlsplit(api_url or "").path.rstrip("/")
    return {"/api/v3": "github", "/api/v4": "gitlab"}.get(path)


def _api_url(name: str, api_url: str | None, *, server: str, host: str, env: Mapping[str, str]) -> str:
    if api_url:
        return normalise_api_url(name, api_url)
    if name == "github":
        if ci_api := env.get("GITHUB_API_URL"):
            if urlsplit(env.get("GITHUB_SERVER_URL", "")).hostname == host:
                return ci_api.rstrip("/")
        return "https://api.github.com" if host == "github.com" else f"{server}/api/v3"
    if ci_api := env.get("CI_API_V4_URL"):
        if urlsplit(ci_api).hostname == host:
            return normalise_api_url("gitlab", ci_api)
    return server


def normalise_api_url(name: str, url: str) -> str:
    """GitHub: the REST base (a bare Enterprise host gets /api/v3). GitLab: the server, no /api/v4."""
    parts = urlsplit(url.rstrip("/"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadInput(f"--api-url {url}: expected an http(s) URL such as https://ghe.example.com/api/v3")
    path = parts.path
    if name == "github" and not path and parts.hostname != "api.github.com":
        path = "/api/v3"
    if name == "gitlab":
        path = path.removesuffix("/api/v4")
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))
