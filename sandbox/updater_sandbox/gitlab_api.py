"""GitLab v4 under `/api/v4`: merge requests (merge with `sha` guard and auto-merge, asynchronous
rebase; the project and branches are in `gitlab_repository`, notes in `gitlab_notes`) over the same
pull-request records the GitHub API shows (a merge request's iid is the pull request's number).

Project ids are numeric or percent-encoded paths (`acme%2Fgitops`), routed on the raw path.
Parameters are read from the JSON body and the query string alike, with Grape's boolean coercion
(python-gitlab sends `auto_merge=True` in the query string). Handlers run under the store lock.
"""

from __future__ import annotations

import logging
import threading
from typing import Any
from urllib.parse import unquote

from updater_sandbox import gitlab_json as J
from updater_sandbox import gitlab_tokens, merging, schemas
from updater_sandbox.bare import RefMoved
from updater_sandbox.state import AutoMerge, Pull, Repo, Store, now_iso
from updater_sandbox.web import ApiError, Request, Response, Router, boolean, paginate

log = logging.getLogger("updater.sandbox")
routes = Router()
SERVICE = "gitlab"
P = "/projects/{id}"
MR = P + "/merge_requests/{iid}"
REBASE_FAILED = "Rebase failed: Rebase locally, resolve all conflicts, then push the branch."


def ok(op: str | None, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    completed = schemas.complete(SERVICE, op, status, body) if op else body
    return Response(status, completed, headers or {}, op)


def error(status: int, message: Any) -> ApiError:
    return ApiError(status, {"message": message})


def find_project(store: Store, ident: str) -> Repo:
    raw = unquote(ident)
    repo = store.repo_by_id(int(raw)) if raw.isdigit() else store.repo(raw)
    if repo is None:
        raise error(404, "404 Project Not Found")
    return repo


def find_mr(repo: Repo, iid: str) -> Pull:
    pull = repo.pulls.get(int(iid)) if iid.isdigit() else None
    if pull is None:
        raise error(404, "404 Not found")
    return pull


def mr_json(store: Store, req: Request, repo: Repo, pull: Pull, *, single: bool = True) -> dict[str, Any]:
    extras = tuple(k for k in ("rebase_in_progress", "diverged_commits_count")
                   if boolean(req.arg(f"include_{k}", "false")))
    return J.merge_request(req, repo, pull, merging.assess(store, repo, pull), single=single, extras=extras)


def _labels(value: Any) -> list[str]:
    items = value if isinstance(value, list) else str(value or "").split(",")
    return [str(i).strip() for i in items if str(i).strip()]


@routes.add("GET", "/user")
def current_user(store: Store, req: Request) -> Response:
    return ok(None, {**J.user(store.login(req.token)), "email": None, "is_admin": False,
                     **gitlab_tokens.user_fields(store, req.token)})


@routes.add("GET", "/personal_access_tokens/self")
def token_self(store: Store, req: Request) -> Response:
    """The token the request authenticates with (personal, project and group access tokens)."""
    found = gitlab_tokens.token_json(store, req.token)
    if found is None:
        raise error(404, "404 Not Found")
    return ok(None, found)


@routes.add("GET", "/job")
def current_job(store: Store, req: Request) -> Response:
    """The job a `JOB-TOKEN` belongs to (one of the routes that accept a job token)."""
    found = gitlab_tokens.job_json(store, req.token, req.base)
    if found is None:
        raise error(401, "401 Unauthorized")
    return ok(None, found)


@routes.add("GET", "/users")
def find_users(store: Store, req: Request) -> Response:
    """Every username exists in the sandbox (there is no user directory to consult): a lookup by
    `username` answers that one user, and remembers its id so MRs can be assigned by id."""
    name = req.arg("username") or store.login(req.token)
    found = J.user(name)
    with store.lock:
        store.gitlab_users[found["id"]] = name
    return ok(None, [found])


def _usernames(store: Store, value: Any, key: str) -> list[str]:
    ids = value if isinstance(value, list) else [v for v in str(value or "").split(",") if v.strip()]
    try:
        names = [store.gitlab_users.get(int(i)) for i in ids]
    except (TypeError, ValueError):
        raise error(400, {key: ["is invalid"]}) from None
    if None in names:
        raise error(400, {key: ["contains an unknown user id"]})
    return [n for n in names if n]


def _people(store: Store, pull: Pull, params: dict[str, Any]) -> None:
    if "assignee_ids" in params:
        pull.assignees = _usernames(store, params["assignee_ids"], "assignee_ids")
    if "reviewer_ids" in params:
        pull.requested_reviewers = _usernames(store, params["reviewer_ids"], "reviewer_ids")


@routes.add("GET", P + "/merge_requests", "getApiV4ProjectsIdMergeRequests")
def list_mrs(store: Store, req: Request, id: str) -> Response:
    repo = find_project(store, id)
    state = req.arg("state", "all")
    source, target = req.arg("source_branch"), req.arg("target_branch")
    wanted = set(_labels(req.arg("labels")))
    iids = {int(v) for v in req.query.get("iids[]", []) if v.isdigit()}
    found = []
    for p in sorted(repo.pulls.values(), key=lambda p: -p.number):
        p_state = "merged" if p.merged else ("opened" if p.state == "open" else "closed")
        if (state not in ("all", p_state) or (source and p.head != source) or (target and p.base != target)
                or not wanted <= set(p.labels) or (iids and p.number not in iids)):
            continue
        found.append(p)
    page, headers = paginate(found, req, default=20)
    if req.arg("view") == "simple":  # not completed: that would add MergeRequestBasic's keys back
        keys = ("id", "iid", "project_id", "title", "description", "state", "created_at", "updated_at", "web_url")
        items = [{k: v for k, v in mr_json(store, req, repo, p, single=False).items() if k in keys} for p in page]
        return Response(200, items, headers, "getApiV4ProjectsIdMergeRequests")
    items = [mr_json(store, req, repo, p, single=False) for p in page]
    return ok("getApiV4ProjectsIdMergeRequests", items, headers=headers)


@routes.add("POST", P + "/merge_requests", "postApiV4ProjectsIdMergeRequests")
def create_mr(store: Store, req: Request, id: str) -> Response:
    repo = find_project(store, id)
    params = req.params()
    missing = [k for k in ("source_branch", "target_branch", "title") if not params.get(k)]
    if missing:
        raise ApiError(400, {"error": ", ".join(f"{k} is missing" for k in missing)})
    source, target, title = str(params["source_branch"]), str(params["target_branch"]), str(params["title"])
    branches = repo.bare.branches()
    if source not in branches or target not in branches:
        raise error(400, {"source_branch" if source not in branches else "target_branch": ["is invalid"]})
    if source == target:
        raise error(400, {"base": ["You can't use same project/branch for source and target"]})
    for p in repo.pulls.values():
        if p.state == "open" and p.head == source and p.base == target:
            raise error(409, [f"Another open merge request already exists for this source branch: !{p.number}"])
    stamp = now_iso()
    draft = title.lower().startswith(("draft:", "[draft]", "(draft)"))
    pull = Pull(id=store.next_id(), number=max(repo.pulls, default=0) + 1, repo=repo.full_name, title=title,
                body=params.get("description"), head=source, base=target, author=store.login(req.token),
                created_at=stamp, updated_at=stamp, draft=draft, labels=_labels(params.get("labels")))
    _people(store, pull, params)
    for name in pull.labels:
        store.label_id(repo, name)
    repo.pulls[pull.number] = pull
    return ok("postApiV4ProjectsIdMergeRequests", mr_json(store, req, repo, pull), 201)


@routes.add("GET", MR, "getApiV4ProjectsIdMergeRequestsMergeRequestIid")
def get_mr(store: Store, req: Request, id: str, iid: str) -> Response:
    repo = find_project(store, id)
    return ok("getApiV4ProjectsIdMergeRequestsMergeRequestIid", mr_json(store, req, repo, find_mr(repo, iid)))


@routes.add("PUT", MR, "putApiV4ProjectsIdMergeRequestsMergeRequestIid")
def update_mr(store: Store, req: Request, id: str, iid: str) -> Response:
    from updater_sandbox.github_pulls import close, reopen

    repo = find_project(store, id)
    pull = find_mr(repo, iid)
    params = req.params()
    if "title" in params:
        pull.title = str(params["title"])
        pull.draft = pull.title.lower().startswith(("draft:", "[draft]", "(draft)"))
    if "description" in params:
        pull.body = params["description"]
    if "target_branch" in params:
        if params["target_branch"] not in repo.bare.branches():
            raise error(400, {"target_branch": ["is invalid"]})
        pull.base = str(params["target_branch"])
    _people(store, pull, params)
    if "labels" in params:
        pull.labels = _labels(params["labels"])
    pull.labels += [n for n in _labels(params.get("add_labels")) if n not in pull.labels]
    gone = set(_labels(params.get("remove_labels")))
    pull.labels = [n for n in pull.labels if n not in gone]
    for name in pull.labels:
        store.label_id(repo, name)
    event = params.get("state_event")
    if event == "close" and not pull.merged:
        close(repo, pull)
    elif event == "reopen" and not pull.merged:
        reopen(pull)
    pull.updated_at = now_iso()
    return ok("putApiV4ProjectsIdMergeRequestsMergeRequestIid", mr_json(store, req, repo, pull))


@routes.add("PUT", MR + "/merge", "putApiV4ProjectsIdMergeRequestsMergeRequestIidMerge")
def merge_mr(store: Store, req: Request, id: str, iid: str) -> Response:
    op = "putApiV4ProjectsIdMergeRequestsMergeRequestIidMerge"
    repo = find_project(store, id)
    pull = find_mr(repo, iid)
    params = req.params()
    if pull.state != "open":
        raise error(405, "405 Method Not Allowed")
    m = merging.assess(store, repo, pull)
    sha = params.get("sha")
    if sha and sha != m.head_sha:
        raise error(409, f"SHA does not match HEAD of source branch: {m.head_sha}")
    method = "squash" if boolean(params.get("squash", False)) else ("ff" if repo.settings.merge_method == "ff" else "merge")
    auto = boolean(params.get("auto_merge", params.get("merge_when_pipeline_succeeds", False)))
    detailed = merging.gitlab_state(repo, pull, m)
    pipeline_running = bool(m.head_sha and repo.latest_statuses(m.head_sha)) and m.any_ci == "pending"
    if auto and store.options.auto_merge_needs_pipeline and not (m.head_sha and repo.latest_statuses(m.head_sha)):
        raise error(405, "405 Method Not Allowed")  # no pipeline (yet): GitLab will not wait for one
    if auto and (pipeline_running or detailed in (m.checking, "ci_still_running")):
        pull.auto_merge = AutoMerge(method=method, enabled_by=store.login(req.token), enabled_at=now_iso(),
                                    commit_title=params.get("merge_commit_message"), sha=sha, via="gitlab")
        return ok(op, mr_json(store, req, repo, pull))
    if detailed == "conflict":
        raise error(422, "Branch cannot be merged")
    try:
        merging.merge(store, repo, pull, method=method, by=store.login(req.token), sha=sha,
                      title=params.get("squash_commit_message" if method == "squash" else "merge_commit_message"),
                      gitlab=True)
    except merging.Refused as err:
        if err.code in ("sha", "moved"):
            raise error(409, f"SHA does not match HEAD of source branch: {merging.shas(repo, pull)[0]}") from err
        if err.code == "conflict":
            raise error(422, "Branch cannot be merged") from err
        raise error(405, "405 Method Not Allowed") from err
    if boolean(params.get("should_remove_source_branch", False)):
        try:
            repo.bare.delete_ref(f"refs/heads/{pull.head}", pull.final_head_sha)
        except RefMoved:
            log.info("forge: %s kept: it moved after the merge", pull.head)
    return ok(op, mr_json(store, req, repo, pull))


@routes.add("POST", MR + "/cancel_merge_when_pipeline_succeeds",
            "postApiV4ProjectsIdMergeRequestsMergeRequestIidCancelMergeWhenPipelineSucceeds")
def cancel_auto_merge(store: Store, req: Request, id: str, iid: str) -> Response:
    repo = find_project(store, id)
    pull = find_mr(repo, iid)
    if pull.auto_merge is None or pull.state != "open":
        raise error(406, "406 Not Acceptable")
    pull.auto_merge = None
    # The contract's 201 is oneOf [{"status": ...}, MergeRequest]; a full MR matches both branches
    # (the first accepts any object), so only the short form GitLab also sends is valid under it.
    return Response(201, {"status": "success"}, {},
                    "postApiV4ProjectsIdMergeRequestsMergeRequestIidCancelMergeWhenPipelineSucceeds")


@routes.add("PUT", MR + "/rebase", "putApiV4ProjectsIdMergeRequestsMergeRequestIidRebase")
def rebase_mr(store: Store, req: Request, id: str, iid: str) -> Response:
    repo = find_project(store, id)
    pull = find_mr(repo, iid)
    if pull.state != "open":
        raise error(403, "403 Forbidden")
    if pull.rebase_in_progress:
        raise error(409, "409 Conflict: a rebase is already in progress")
    pull.rebase_in_progress, pull.merge_error = True, None
    timer = threading.Timer(store.rebase_delay, _finish_rebase, (store, repo, pull))
    timer.daemon = True
    timer.start()
    return ok("putApiV4ProjectsIdMergeRequestsMergeRequestIidRebase", {"rebase_in_progress": True}, 202)


def _finish_rebase(store: Store, repo: Repo, pull: Pull) -> None:
    """The Sidekiq half of a rebase: replay the source commits on the target, or record why not."""
    with store.lock:
        try:
            merging.update_branch(store, repo, pull, method="rebase")
        except merging.Refused as err:
            if err.code != "up_to_date":
                pull.merge_error = REBASE_FAILED if err.code == "conflict" else str(err)
        except Exception:  # recorded on the MR like GitLab does; the trace goes to the log
            log.exception("forge: rebase of %s!%s failed", repo.full_name, pull.number)
            pull.merge_error = "Rebase failed. Please rebase locally"
        finally:
            pull.rebase_in_progress = False
