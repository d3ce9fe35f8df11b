"""What one sync of an app came to, and where it is reported: the inventory status, Kubernetes Events,
and a commit status on the forge ("deployed to <cluster>: healthy") for the synced commit.

`AppStatus` and the builders (`event_for`, `commit_state`) are pure. Commit statuses go through a
two-method interface with one small implementation per forge, using plain `requests` against the
statuses endpoint (authenticated by a token, or by a GitHub App's installation tokens through
`updater.agent.app_statuses`); a failure to post is StatusNotPosted, which the recorder logs and
never lets fail the sync.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from collections.abc import Callable
from typing import Any, Protocol, cast
from urllib.parse import quote, urlsplit

import requests

from updater.agent.objects import Obj
from updater.errors import RemoteError
from updater.secrets import mask, register_secret

log = logging.getLogger("updater.agent")

SYNCED, OUT_OF_SYNC = "Synced", "OutOfSync"


@dataclass(frozen=True)
class AppStatus:
    app: str
    commit: str | None
    sync: str  # Synced | OutOfSync
    health: str  # Healthy | Progressing | Degraded
    applied: tuple[str, ...] = ()
    pruned: tuple[str, ...] = ()
    drifted: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    objects: int = 0
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        parts = [f"app {self.app}", f"commit {(self.commit or '?')[:12]}", self.sync, self.health,
                 f"{self.objects} objects"]
        for label, items in (("applied", self.applied), ("pruned", self.pruned), ("drifted", self.drifted),
                             ("errors", self.errors)):
            if items:
                parts.append(f"{len(items)} {label}")
        return ", ".join(parts) + f" ({self.duration:.2f}s)"

    def stored(self) -> dict[str, Any]:
        """What goes in the inventory's status: no durations or times, so a quiet sync writes nothing."""
        data = asdict(self)
        data.pop("duration")
        return cast(dict[str, Any], json.loads(json.dumps(data)))  # tuples as lists: equal to what a stored status reads back


def event_for(status: AppStatus, *, namespace: str, inventory: str, cluster: str, now: float) -> Obj | None:
    """An Event on the app's inventory ConfigMap when something happened; None for a quiet sync."""
    if status.errors:
        reason, kind, message = "SyncFailed", "Warning", status.errors[0]
    elif status.drifted:
        reason, kind = "Drift", "Warning"
        message = f"{len(status.drifted)} object(s) differ from git: {', '.join(status.drifted[:5])}"
    elif status.applied or status.pruned:
        reason, kind = "Synced", "Normal"
        message = f"commit {(status.commit or '')[:12]}: {len(status.applied)} applied, {len(status.pruned)} pruned"
    else:
        return None
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    return {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": f"{inventory}.{int(now * 1e6):x}", "namespace": namespace},
        "involvedObject": {"apiVersion": "v1", "kind": "ConfigMap", "namespace": namespace, "name": inventory},
        "reason": reason, "message": message[:1000], "type": kind, "count": 1,
        "firstTimestamp": stamp, "lastTimestamp": stamp,
        "source": {"component": "updater-agent", "host": cluster}, "reportingComponent": "updater-agent",
    }


def commit_state(status: AppStatus, *, cluster: str) -> tuple[str, str]:
    """(state, description) for the commit status: success/pending/failure, GitHub's words."""
    if status.errors:
        return "failure", f"sync to {cluster} failed: {status.errors[0]}"[:140]
    if status.health == "Degraded":
        return "failure", f"deployed to {cluster}: degraded"
    if status.sync != SYNCED or status.health == "Progressing":
        return "pending", f"deploying to {cluster}: {status.health.lower()}"
    return "success", f"deployed to {cluster}: healthy"


class CommitStatuses(Protocol):
    def post(self, sha: str, *, state: str, description: str, context: str) -> None: ...


def repo_slug(repo_url: str) -> str:
    """`owner/name` (or a GitLab group path) from a clone URL."""
    path = urlsplit(repo_url).path if "://" in repo_url else repo_url.partition(":")[2]
    return path.strip("/").removesuffix(".git")


class StatusNotPosted(RemoteError):
    """The forge did not take a commit status (refused, down, unreachable): the recorder logs it and
    the next pass posts again."""


# What a token needs to post the agent's commit statuses (named when the forge refuses one).
TOKEN_STATUSES = {"github": "a token that may write commit statuses (fine-grained: Commit statuses: write; "
                            "classic: repo:status)",
                  "gitlab": "a token with the api scope and at least the Developer role"}


class GitHubStatuses:
    """`token_source`: called before every post for the current token (a GitHub App's installation
    token, refreshed before it expires); `who` and `needs` name the credentials in a refusal."""

    def __init__(self, api_url: str, slug: str, token: str | None, *, timeout: float = 10.0,
                 token_source: Callable[[], str] | None = None, who: str = "the status token",
                 needs: str = TOKEN_STATUSES["github"]) -> None:
        self.url = f"{api_url.rstrip('/')}/repos/{slug}/statuses"
        self.slug = slug
        self.headers = {"Accept": "application/vnd.github+json"}
        if token:
            register_secret(token)
            self.headers["Authorization"] = f"Bearer {token}"
        self.timeout = timeout
        self.token_source, self.who, self.needs = token_source, who, needs

    def post(self, sha: str, *, state: str, description: str, context: str) -> None:
        headers = dict(self.headers)
        if self.token_source is not None:
            token = self.token_source()  # AuthFailed naming the app when the installation is gone
            register_secret(token)
            headers["Authorization"] = f"Bearer {token}"
        body = {"state": state, "description": description, "context": context}
        _post(f"{self.url}/{sha}", body, headers, self.timeout, where=f"{context} on {self.slug}@{sha[:12]}",
              who=self.who, needs=self.needs)


class GitLabStatuses:
    _STATES = {"success": "success", "pending": "running", "failure": "failed"}

    def __init__(self, api_url: str, project: str, token: str | None, *, timeout: float = 10.0) -> None:
        self.url = f"{api_url.rstrip('/')}/projects/{quote(project, safe='')}/statuses"
        self.project = project
        self.headers = {}
        if token:
            register_secret(token)
            self.headers["PRIVATE-TOKEN"] = token
        self.timeout = timeout

    def post(self, sha: str, *, state: str, description: str, context: str) -> None:
        body = {"state": self._STATES[state], "description": description, "name": context}
        _post(f"{self.url}/{sha}", body, self.headers, self.timeout, where=f"{context} on {self.project}@{sha[:12]}",
              who="the status token", needs=TOKEN_STATUSES["gitlab"])


def _post(url: str, body: dict[str, str], headers: dict[str, str], timeout: float, *, where: str, who: str,
          needs: str) -> None:
    """POST one status; StatusNotPosted (one line, masked) when the forge does not take it."""
    try:
        response = requests.post(url, json=body, headers=headers, timeout=timeout)
    except requests.RequestException as err:
        raise StatusNotPosted(mask(f"{where}: {url} unreachable ({err.__class__.__name__})")) from None
    if response.status_code < 300:
        return
    try:
        detail = str(response.json().get("message", ""))
    except ValueError:
        detail = response.text[:200]
    detail = " ".join(detail.split())
    if response.status_code in (401, 403, 404):
        raise StatusNotPosted(mask(f"{where}: {who} was refused ({response.status_code}: {detail}); it needs "
                                   f"{needs}"))
    raise StatusNotPosted(mask(f"{where}: the forge answered {response.status_code}: {detail}"))


def commit_statuses(provider: str | None, api_url: str | None, repo_url: str, token: str | None) -> CommitStatuses | None:
    if provider is None or api_url is None:
        return None
    if provider == "github":
        return GitHubStatuses(api_url, repo_slug(repo_url), token)
    return GitLabStatuses(api_url, repo_slug(repo_url), token)
