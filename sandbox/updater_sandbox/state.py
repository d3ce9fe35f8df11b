"""The forge's state that git does not hold: repository settings, pull requests (which GitLab's API
shows as merge requests: one record, two views), labels, comments, commit statuses.

Everything about code — a pull request's head and base commits, whether it conflicts or is behind,
what a merge produces — is read from the bare repositories (`updater_sandbox.bare`) when asked, never
cached here. Records are mutable and guarded by the store's re-entrant lock, which every API request
and control call holds while it reads or changes them (the forge's single-writer rule).
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from updater_sandbox.bare import BareRepo
from updater_sandbox.options import ForgeOptions


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass
class Protection:
    """Branch protection, enforced by the pre-receive hook (pushes) and by merges (API)."""

    required_contexts: tuple[str, ...] = ()  # commit status contexts that must be `success` to merge
    strict: bool = False  # the head must contain the base tip ("Require branches to be up to date")
    allow_force_push: bool = False
    allow_direct_push: bool = False  # False: every change must come through a pull request
    # GitHub's "Require signed commits": every pushed commit must verify against a registered key
    required_signatures: bool = False


@dataclass
class RepoSettings:
    allow_auto_merge: bool = True
    allow_merge_commit: bool = True
    allow_squash_merge: bool = True
    allow_rebase_merge: bool = True
    delete_branch_on_merge: bool = False
    merge_method: str = "merge"  # GitLab project setting: merge | rebase_merge | ff
    only_allow_merge_if_pipeline_succeeds: bool = False  # GitLab
    protected: dict[str, Protection] = field(default_factory=dict)
    hook_style: str = "github"  # whose wording the pre-receive hook uses: github | gitlab
    # GitLab's push rule `reject_unsigned_commits`: every branch, and (like GitLab's
    # `commit.has_signature?`) a signature must be present; whether its key is known is not checked
    reject_unsigned_commits: bool = False


@dataclass
class Comment:
    id: int
    body: str
    author: str
    created_at: str
    updated_at: str
    system: bool = False


# GitLab's commit-status states in GitHub's words (statuses are stored the GitHub way)
STATUS_FROM_GITLAB = {"pending": "pending", "running": "pending", "created": "pending", "success": "success",
                      "failed": "failure", "canceled": "error", "skipped": "success"}


@dataclass
class Status:
    id: int
    sha: str
    state: str  # GitHub states: error | failure | pending | success
    context: str
    description: str | None
    target_url: str | None
    creator: str
    created_at: str
    updated_at: str


@dataclass
class AutoMerge:
    method: str  # merge | squash | rebase
    enabled_by: str
    enabled_at: str
    commit_title: str | None = None
    commit_message: str | None = None
    sha: str | None = None  # GitLab `sha` guard given with auto_merge
    via: str = "github"  # which API enabled it: GitHub waits for required checks, GitLab for the pipeline


@dataclass
class Pull:
    id: int
    number: int
    repo: str  # owner/name
    title: str
    body: str | None
    head: str  # branch name
    base: str
    author: str
    created_at: str
    updated_at: str
    draft: bool = False
    state: str = "open"  # open | closed
    merged: bool = False
    merged_at: str | None = None
    merged_by: str | None = None
    closed_at: str | None = None
    merge_commit_sha: str | None = None
    final_head_sha: str | None = None  # head/base once closed: the branch may be gone
    final_base_sha: str | None = None
    labels: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    requested_reviewers: list[str] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    auto_merge: AutoMerge | None = None
    rebase_in_progress: bool = False
    merge_error: str | None = None
    # mergeability lag: the (base, head) pair last seen and when it was first seen
    seen_pair: tuple[str, str] | None = None
    seen_at: float = 0.0
    shown_head: str | None = None  # head_lag: the head the API shows, and since when the branch differs
    head_moved_at: float = 0.0


@dataclass
class Repo:
    id: int
    owner: str
    name: str
    bare: BareRepo
    created_at: str
    settings: RepoSettings = field(default_factory=RepoSettings)
    pulls: dict[int, Pull] = field(default_factory=dict)
    labels: dict[str, tuple[int, str]] = field(default_factory=dict)  # name -> (id, color)
    statuses: list[Status] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def statuses_for(self, sha: str) -> list[Status]:
        """Newest first, as GitHub lists them."""
        return [s for s in reversed(self.statuses) if s.sha == sha]

    def latest_statuses(self, sha: str) -> dict[str, Status]:
        """context -> its newest status for `sha`."""
        latest: dict[str, Status] = {}
        for status in self.statuses_for(sha):
            latest.setdefault(status.context, status)
        return latest


class Store:
    """All repositories and records; ids come from one counter so they never collide."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.lock = threading.RLock()
        self.repos: dict[str, Repo] = {}  # "owner/name" -> Repo
        self._ids = itertools.count(1001)
        self.mergeability_delay = 0.0  # seconds a (base, head) pair reads as "checking" after it changes
        self.rebase_delay = 0.05  # seconds GitLab's asynchronous rebase takes
        self.options = ForgeOptions()  # real behaviours acted out (all off by default)
        self.logins: dict[str, str] = {}  # API token -> the user it authenticates
        self.read_only: set[str] = set()  # tokens that may read but not write (git push gets 403)
        self.gitlab_users: dict[int, str] = {}  # GitLab user id -> username, for ids seen by clients

    def next_id(self) -> int:
        with self.lock:
            return next(self._ids)

    def repo(self, full_name: str) -> Repo | None:
        return self.repos.get(full_name)

    def login(self, token: str) -> str:
        return self.logins.get(token, "sandbox-bot")

    def pull_by_id(self, pull_id: int) -> tuple[Repo, Pull] | None:
        for repo in self.repos.values():
            for pull in repo.pulls.values():
                if pull.id == pull_id:
                    return repo, pull
        return None

    def repo_by_id(self, repo_id: int) -> Repo | None:
        return next((r for r in self.repos.values() if r.id == repo_id), None)

    def add_repo(self, owner: str, name: str, bare: BareRepo) -> Repo:
        with self.lock:
            repo = Repo(id=self.next_id(), owner=owner, name=name, bare=bare, created_at=now_iso())
            self.repos[repo.full_name] = repo
            return repo

    def add_status(self, repo: Repo, sha: str, state: str, context: str, *, description: str | None = None,
                   target_url: str | None = None, creator: str) -> Status:
        with self.lock:
            stamp = now_iso()
            status = Status(self.next_id(), sha, state, context, description, target_url, creator, stamp, stamp)
            repo.statuses.append(status)
            return status

    def label_id(self, repo: Repo, name: str) -> tuple[int, str]:
        with self.lock:
            if name not in repo.labels:
                repo.labels[name] = (self.next_id(), "ededed")
            return repo.labels[name]

    def settled(self, pull: Pull, pair: tuple[str, str]) -> bool:
        """Whether mergeability of this (base, head) pair is known yet (see `mergeability_delay`)."""
        with self.lock:
            if pull.seen_pair != pair:
                pull.seen_pair, pull.seen_at = pair, time.monotonic()
            return time.monotonic() - pull.seen_at >= self.mergeability_delay

    def shown_head(self, pull: Pull, head: str) -> str:
        """The head the API shows: with `options.head_lag`, the previous one for that long after a push."""
        with self.lock:
            now = time.monotonic()
            if pull.shown_head is None or self.options.head_lag <= 0:
                pull.shown_head, pull.head_moved_at = head, 0.0
            elif pull.shown_head != head:
                if pull.head_moved_at <= 0:
                    pull.head_moved_at = now
                if now - pull.head_moved_at >= self.options.head_lag:
                    pull.shown_head, pull.head_moved_at = head, 0.0
            else:
                pull.head_moved_at = 0.0
            return pull.shown_head
