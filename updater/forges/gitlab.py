"""GitLab provider: merge requests through python-gitlab (the only module that imports it).

python-gitlab's own retries are off (no `obey_rate_limit`, no `retry_transient_errors`, so a 429 or
502 surfaces at once) and `updater.retry.retry_api` retries instead; a response hook on
the client's session keeps the last `Retry-After` / `RateLimit-Reset` so rate-limit waits follow
GitLab's own hint. Auto-merge is `auto_merge` (with the older `merge_when_pipeline_succeeds`) on the
merge endpoint; GitLab chooses merge/rebase by project setting, so only `squash` maps to a flag.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import gitlab
import requests
from gitlab.exceptions import GitlabAuthenticationError, GitlabError
from gitlab.v4.objects import ProjectMergeRequest

from updater.errors import AuthFailed, BadInput, TransientRemoteError, UpdaterError
from updater.forges.base import (
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
from updater.forges.gitlab_auth import JOB_TOKEN, TokenFacts, explain, kind_of_user
from updater.forges.settings import ProviderSettings, poll
from updater.retry import call_with_retries, retry_api

T = TypeVar("T")
log = logging.getLogger("updater.forges")

# GitLab's commit-status words -> GitHub's (CommitStatus.state)
_STATUS_WORDS = {"running": "pending", "created": "pending", "failed": "failure", "canceled": "error"}

PERMISSION = "a token with the api scope and at least the Developer role on the project"

_STATUSES: dict[str, Mergeability | None] = {
    "mergeable": "clean", "can_be_merged": "clean",
    "need_rebase": "behind",
    "conflict": "conflicting", "broken_status": "conflicting", "cannot_be_merged": "conflicting",
    # Still computing: GitLab checks asynchronously after a push or the MR's creation, and while CI runs
    # it reports that before the rebase / conflict checks (so those are not known yet either).
    "checking": None, "unchecked": None, "preparing": None, "cannot_be_merged_recheck": None,
    "approvals_syncing": None, "ci_still_running": None,
}


class GitLabProvider:
    name = "gitlab"

    def __init__(self, target: ForgeTarget, *, token: str, settings: ProviderSettings) -> None:
        self.target = target
        self.settings = settings
        self._hints = threading.local()  # the last rate-limit headers seen, per thread
        session = requests.Session()
        session.hooks["response"].append(self._keep_hints)
        # CI_JOB_TOKEN goes in GitLab's JOB-TOKEN header: as a PRIVATE-TOKEN it is no token at all.
        self._job_token = target.token_env == JOB_TOKEN
        self._client = gitlab.Gitlab(
            target.api_url, private_token=None if self._job_token else token,
            job_token=token if self._job_token else None, timeout=settings.request_timeout,
            retry_transient_errors=False, session=session, per_page=100,
        )
        # Every manager call goes through http_request: turn its rate-limit sleeping off, retry ours.
        self._client.http_request = functools.partial(  # type: ignore[method-assign]
            self._client.http_request, obey_rate_limit=False, retry_transient_errors=False, max_retries=0)
        self._project = self._client.projects.get(target.project, lazy=True)  # no request yet
        self._mrs: dict[int, ProjectMergeRequest] = {}

    # -- reads ---------------------------------------------------------------------------------
    def find_open(self, *, head: str) -> PullRequest | None:
        mrs = self._call(f"list merge requests for {head}", lambda: self._project.mergerequests.list(
            state="opened", source_branch=head, get_all=True))
        found = [self._remember(mr) for mr in mrs if mr.source_branch == head]
        return min(found, key=lambda p: p.number) if found else None

    def list_open(self, *, head_prefix: str) -> list[PullRequest]:
        mrs = self._call("list open merge requests",
                         lambda: self._project.mergerequests.list(state="opened", get_all=True))
        return sorted((self._remember(mr) for mr in mrs if mr.source_branch.startswith(head_prefix)),
                      key=lambda p: p.number)

    def mergeability(self, pr: PullRequest) -> Mergeability:
        def read() -> Mergeability | None:
            mr = self._call(f"read merge request !{pr.number}", lambda: self._fetch(pr.number))
            status = getattr(mr, "detailed_merge_status", None) or mr.merge_status
            return _STATUSES.get(status, "blocked")

        return poll(self.settings, read) or "unknown"

    def peek_mergeability(self, prs: Sequence[PullRequest]) -> dict[int, Mergeability]:
        """From the list answers already read (they carry `detailed_merge_status`): no request."""
        result: dict[int, Mergeability] = {}
        for pr in prs:
            mr = self._mrs.get(pr.number)
            status = getattr(mr, "detailed_merge_status", None) if mr is not None else None
            verdict = _STATUSES.get(status, "blocked") if status else None
            result[pr.number] = verdict or "unknown"
        return result

    # -- writes --------------------------------------------------------------------------------
    def create(self, *, head: str, base: str, title: str, body: str, draft: bool) -> PullRequest:
        data = {"source_branch": head, "target_branch": base, "description": body,
                "title": f"Draft: {title}" if draft and not title.startswith("Draft:") else title}
        mr = self._call(f"open a merge request from {head}", lambda: self._project.mergerequests.create(data))
        return self._remember(mr)

    def update(self, pr: PullRequest, *, title: str, body: str) -> PullRequest:
        if pr.draft and not title.startswith("Draft:"):
            title = f"Draft: {title}"
        mr = self._call(f"update merge request !{pr.number}", lambda: self._project.mergerequests.update(
            pr.number, {"title": title, "description": body}))
        return self._remember_dict(pr, mr)

    def add_labels(self, pr: PullRequest, labels: Sequence[str]) -> None:
        if labels:
            self._call(f"label merge request !{pr.number}", lambda: self._project.mergerequests.update(
                pr.number, {"add_labels": ",".join(labels)}))

    def request_reviewers(self, pr: PullRequest, users: Sequence[str]) -> None:
        if users:
            ids = self._user_ids(users)
            self._call(f"request reviewers on !{pr.number}", lambda: self._project.mergerequests.update(
                pr.number, {"reviewer_ids": ids}))

    def add_assignees(self, pr: PullRequest, users: Sequence[str]) -> None:
        if users:
            ids = self._user_ids(users)
            self._call(f"assign !{pr.number}", lambda: self._project.mergerequests.update(
                pr.number, {"assignee_ids": ids}))

    def comment(self, pr: PullRequest, text: str) -> None:
        self._call(f"comment on !{pr.number}", lambda: self._mr(pr).notes.create({"body": text}))

    def commit_statuses(self, sha: str) -> list[CommitStatus]:
        def read() -> list[CommitStatus]:
            raws = self._project.commits.get(sha, lazy=True).statuses.list(get_all=True)
            latest: dict[str, CommitStatus] = {}
            for raw in sorted(raws, key=lambda r: int(r.id), reverse=True):  # newest first
                state = _STATUS_WORDS.get(str(raw.status), str(raw.status))
                latest.setdefault(str(raw.name), CommitStatus(
                    str(raw.name), state, str(getattr(raw, "description", "") or ""),
                    str(getattr(raw, "target_url", "") or ""),
                    str(getattr(raw, "finished_at", None) or getattr(raw, "created_at", "") or "")))
            return list(latest.values())

        return self._call(f"read the statuses of commit {sha[:12]}", read)

    def close(self, pr: PullRequest, *, comment: str) -> None:
        self.comment(pr, comment)
        self._call(f"close !{pr.number}", lambda: self._project.mergerequests.update(
            pr.number, {"state_event": "close"}))

    def enable_auto_merge(self, pr: PullRequest, *, method: MergeMethod) -> None:
        """Raises `HeadMoved` on GitLab's 409 (the MR's head is not `pr.head_sha`). A 405 right after
        a push means the MR has no pipeline yet (GitLab creates it asynchronously): wait for its
        head_pipeline, bounded by `settings.pipeline_wait`, and ask again."""
        path = f"/projects/{self._project.encoded_id}/merge_requests/{pr.number}/merge"
        data: dict[str, Any] = {"auto_merge": True, "merge_when_pipeline_succeeds": True,
                                "squash": method == "squash"}
        if pr.head_sha:
            data["sha"] = pr.head_sha
        deadline = time.monotonic() + self.settings.pipeline_wait
        wait = self.settings.poll_wait
        while True:
            try:
                self._call(f"enable auto-merge on !{pr.number}", lambda: self._client.http_put(path, post_data=data))
                return
            except ForgeRefused as err:
                if err.status == 409:
                    raise HeadMoved(f"set auto-merge on {pr.url}: {err}") from err
                if err.status != 405 or self._waiting_is_useless(pr):
                    raise AutoMergeUnavailable(
                        f"auto-merge could not be set on {pr.url}: {err}; check the project's merge settings "
                        "(and that the merge request has no conflict); the merge request stays open") from err
                if time.monotonic() + wait > deadline:
                    raise AutoMergeUnavailable(
                        f"auto-merge could not be set on {pr.url}: the merge request still has no pipeline after "
                        f"{self.settings.pipeline_wait:g} s (GitLab accepts auto-merge only once one exists); "
                        "the next updater run for this target sets it again; check that CI runs for merge "
                        "requests; the merge request stays open") from err
                log.info("merge request !%d has no pipeline yet: asking again in %.1fs", pr.number, wait)
                time.sleep(wait)
                wait = min(wait * 1.5, 3.0)

    def _waiting_is_useless(self, pr: PullRequest) -> bool:
        """A 405 that no pipeline will cure: the MR has its pipeline already, or is no longer open
        (closed or merged: waiting for a pipeline only delayed the same answer by pipeline_wait)."""
        mr = self._call(f"read merge request !{pr.number}", lambda: self._fetch(pr.number))
        return getattr(mr, "head_pipeline", None) is not None or getattr(mr, "state", "opened") != "opened"

    # -- plumbing ------------------------------------------------------------------------------
    def _user_ids(self, users: Sequence[str]) -> list[int]:
        ids = []
        for user in users:
            def look_up(u: str = user) -> Any:
                return self._client.users.list(username=u)

            found = self._call(f"look up user {user}", look_up)
            if not found:
                raise BadInput(f"GitLab user {user!r} not found (--reviewer/--assignee)")
            ids.append(found[0].id)
        return ids

    def _fetch(self, iid: int) -> ProjectMergeRequest:
        mr = self._project.mergerequests.get(iid)
        self._mrs[iid] = mr
        return mr

    def _mr(self, pr: PullRequest) -> ProjectMergeRequest:
        return self._mrs.get(pr.number) or self._project.mergerequests.get(pr.number, lazy=True)

    def _remember(self, mr: ProjectMergeRequest) -> PullRequest:
        self._mrs[mr.iid] = mr
        return _to_pull(mr.attributes)

    def _remember_dict(self, old: PullRequest, answer: Any) -> PullRequest:
        attributes = answer if isinstance(answer, dict) else getattr(answer, "attributes", {})
        return _to_pull(attributes) if attributes.get("iid") else old

    def _keep_hints(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._hints.headers = {k.lower(): v for k, v in response.headers.items()}

    def _call(self, what: str, call: Callable[[], T]) -> T:
        def translated() -> T:
            self._hints.headers = {}
            try:
                return call()
            except GitlabError as err:
                raise self._translate(what, err) from err
            except requests.exceptions.RequestException as err:
                raise TransientRemoteError(f"GitLab API: {what}: {type(err).__name__}") from err

        return call_with_retries(lambda _: translated(), retry_api(self.settings.retry), what=f"GitLab API: {what}")

    def _translate(self, what: str, err: GitlabError) -> UpdaterError:
        status = 401 if isinstance(err, GitlabAuthenticationError) else (err.response_code or 0)
        detail = str(err.error_message)
        headers: dict[str, str] = getattr(self._hints, "headers", {})
        where = f"GitLab API ({self.target.api_url}, {self.target.project}): {what}"
        error = error_for_status(
            status, detail, where=where,
            target=self.target, permission=PERMISSION, retry_after=retry_after(headers, reset="ratelimit-reset"),
            exists=status == 409 and "already exists" in detail.lower(),
        )
        if status in (401, 403, 404):  # say which scope, role or setting the token lacks for this step
            if (tail := explain(status, _body(err), token_env=self.target.token_env, facts=self._facts())):
                return AuthFailed(f"{where}: {tail}")
        return error

    def _facts(self) -> TokenFacts:
        """What GitLab tells about the token, read only after a refusal (never on the happy path):
        a job token's `GET /job`, else `GET /user` (bots) and `GET /personal_access_tokens/self`."""
        def read(path: str) -> dict[str, Any] | None:
            try:
                answer = self._client.http_get(path)
            except (GitlabError, requests.exceptions.RequestException):
                return None
            return answer if isinstance(answer, dict) else None

        if self._job_token:
            return TokenFacts(JOB_TOKEN, job_alive=read("/job") is not None)
        user, token = read("/user"), read("/personal_access_tokens/self")
        return TokenFacts(kind_of_user(user) if user else None,
                          tuple(str(s) for s in (token or {}).get("scopes") or ()))


def _body(err: GitlabError) -> dict[str, Any]:
    """GitLab's JSON error body (python-gitlab keeps only its message or error word in the text)."""
    try:
        parsed = json.loads(err.response_body or b"{}")
    except (ValueError, TypeError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _to_pull(a: dict[str, Any]) -> PullRequest:
    state = {"opened": "open", "merged": "merged"}.get(a.get("state", ""), "closed")
    return PullRequest(
        number=int(a["iid"]), url=a.get("web_url", ""), head=a.get("source_branch", ""),
        base=a.get("target_branch", ""), title=a.get("title", ""), body=a.get("description") or "",
        state=state, head_sha=a.get("sha"),  # type: ignore[arg-type]
        draft=bool(a.get("draft") or a.get("work_in_progress")),
        labels=tuple(label if isinstance(label, str) else label.get("name", "") for label in a.get("labels") or ()),
        auto_merge=bool(a["merge_when_pipeline_succeeds"]) if "merge_when_pipeline_succeeds" in a else None,
    )
