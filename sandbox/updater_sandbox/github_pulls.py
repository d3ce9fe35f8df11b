"""GitHub REST v3 pull requests and their issue side (labels, comments), registered on
`updater_sandbox.github_api.routes`. Merges and branch updates are real git writes (`merging`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from updater_sandbox import github_json as J
from updater_sandbox import merging
from updater_sandbox.github_api import find_pull, find_repo, invalid, json_object, not_found, ok, pull_json, routes
from updater_sandbox.options import ACTIONS_MAY_NOT_CREATE, NOT_COLLABORATOR
from updater_sandbox.state import Comment, Pull, Repo, Store, now_iso
from updater_sandbox.web import ApiError, Request, Response, paginate

_MERGE_STATUS = {"closed": 405, "not_mergeable": 405, "conflict": 405, "unknown": 405, "method": 405,
                 "sha": 409, "moved": 409}


@routes.add("GET", "/repos/{owner}/{repo}/pulls", "pulls/list")
def list_pulls(store: Store, req: Request, owner: str, repo: str) -> Response:
    r = find_repo(store, owner, repo)
    state = req.arg("state", "open")
    head, base = req.arg("head"), req.arg("base")
    found = []
    for p in sorted(r.pulls.values(), key=lambda p: -p.number):
        if state != "all" and p.state != state:
            continue
        if head and head not in (f"{r.owner}:{p.head}", p.head):
            continue
        if base and p.base != base:
            continue
        found.append(p)
    page, headers = paginate(found, req)
    return ok("pulls/list", [pull_json(store, req, r, p, full=False) for p in page], headers=headers)


@routes.add("POST", "/repos/{owner}/{repo}/pulls", "pulls/create")
def create_pull(store: Store, req: Request, owner: str, repo: str) -> Response:
    r = find_repo(store, owner, repo)
    if not store.options.actions_may_create_pulls:
        raise ApiError(403, {"message": ACTIONS_MAY_NOT_CREATE, "status": "403",
                             "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request"})
    body = json_object(req)
    head, base, title = body.get("head"), body.get("base"), body.get("title")
    if not isinstance(head, str) or not isinstance(base, str):
        raise invalid("head and base are required", field="head", code="missing_field")
    if not title and not body.get("issue"):
        raise invalid("title is required", field="title", code="missing_field")
    head = head.split(":", 1)[1] if ":" in head else head
    branches = r.bare.branches()
    if head not in branches:
        raise invalid(f"head {head} is not a branch", field="head", code="invalid")
    if base not in branches:
        raise invalid(f"base {base} is not a branch", field="base", code="invalid")
    if any(p.state == "open" and p.head == head and p.base == base for p in r.pulls.values()):
        raise invalid(f"A pull request already exists for {r.owner}:{head}.")
    if r.bare.count(branches[base], branches[head]) == 0:
        raise invalid(f"No commits between {base} and {head}")
    stamp = now_iso()
    number = max(r.pulls, default=0) + 1
    pull = Pull(id=store.next_id(), number=number, repo=r.full_name, title=str(title), body=body.get("body"),
                head=head, base=base, author=store.login(req.token), created_at=stamp, updated_at=stamp,
                draft=bool(body.get("draft")))
    r.pulls[number] = pull
    headers = {"Location": f"{J.api(req)}/repos/{r.full_name}/pulls/{number}"}
    return ok("pulls/create", pull_json(store, req, r, pull), 201, headers)


@routes.add("GET", "/repos/{owner}/{repo}/pulls/{number}", "pulls/get")
def get_pull(store: Store, req: Request, owner: str, repo: str, number: str) -> Response:
    r = find_repo(store, owner, repo)
    return ok("pulls/get", pull_json(store, req, r, find_pull(r, number)))


@routes.add("PATCH", "/repos/{owner}/{repo}/pulls/{number}", "pulls/update")
def update_pull(store: Store, req: Request, owner: str, repo: str, number: str) -> Response:
    r = find_repo(store, owner, repo)
    pull = find_pull(r, number)
    body = json_object(req)
    if "title" in body:
        pull.title = str(body["title"])
    if "body" in body:
        pull.body = body["body"]
    if "base" in body:
        if body["base"] not in r.bare.branches():
            raise invalid(f"Proposed base branch '{body['base']}' was not found", field="base")
        pull.base = str(body["base"])
    if body.get("state") == "closed" and not pull.merged:
        close(r, pull)
    elif body.get("state") == "open" and not pull.merged:
        reopen(pull)
    pull.updated_at = now_iso()
    return ok("pulls/update", pull_json(store, req, r, pull))


def close(repo: Repo, pull: Pull) -> None:
    if pull.state == "open":
        pull.final_head_sha, pull.final_base_sha = merging.shas(repo, pull)
        pull.state, pull.closed_at, pull.auto_merge = "closed", now_iso(), None


def reopen(pull: Pull) -> None:
    pull.state, pull.closed_at, pull.final_head_sha, pull.final_base_sha = "open", None, None, None


@routes.add("GET", "/repos/{owner}/{repo}/pulls/{number}/commits", "pulls/list-commits")
def pull_commits(store: Store, req: Request, owner: str, repo: str, number: str) -> Response:
    r = find_repo(store, owner, repo)
    pull = find_pull(r, number)
    head, base = merging.shas(r, pull)
    shas = r.bare.commits_between(base, head) if head and base and pull.state == "open" else []
    page, headers = paginate([J.commit(req, r, r.bare.commit(s)) for s in shas], req, limit=250)
    return ok("pulls/list-commits", page, headers=headers)


@routes.add("GET", "/repos/{owner}/{repo}/pulls/{number}/merge", "pulls/check-if-merged")
def is_merged(store: Store, req: Request, owner: str, repo: str, number: str) -> Response:
    merged = find_pull(find_repo(store, owner, repo), number).merged
    if not merged:  # github.com: {"message": "Not Found"} (PyGithub's testMerge recording)
        return Response(404, J.error(404, "Not Found"), {}, "pulls/check-if-merged")
    return Response(204, None, {}, "pulls/check-if-merged")


@routes.add("PUT", "/repos/{owner}/{repo}/pulls/{number}/merge", "pulls/merge")
def merge_pull(store: Store, req: Request, owner: str, repo: str, number: str) -> Response:
    r = find_repo(store, owner, repo)
    pull = find_pull(r, number)
    body = json_object(req)
    method = body.get("merge_method", "merge")
    if method not in ("merge", "squash", "rebase"):
        raise invalid("merge_method is not included in the list", field="merge_method")
    try:
        sha = merging.merge(store, r, pull, method=method, by=store.login(req.token), sha=body.get("sha"),
                            title=body.get("commit_title"), message=body.get("commit_message"))
    except merging.Refused as err:
        raise ApiError(_MERGE_STATUS[err.code], J.error(_MERGE_STATUS[err.code], str(err))) from err
    return ok("pulls/merge", {"sha": sha, "merged": True, "message": "Pull Request successfully merged"})


@routes.add("PUT", "/repos/{owner}/{repo}/pulls/{number}/update-branch", "pulls/update-branch")
def update_branch(store: Store, req: Request, owner: str, repo: str, number: str) -> Response:
    r = find_repo(store, owner, repo)
    pull = find_pull(r, number)
    body = json_object(req)
    try:
        merging.update_branch(store, r, pull, expected_head=body.get("expected_head_sha"))
    except merging.Refused as err:
        if err.code == "sha":
            raise ApiError(422, J.error(422, "expected_head_sha does not match the pull request's current HEAD ref")) from err
        raise ApiError(422, J.error(422, str(err))) from err
    return ok("pulls/update-branch", {"message": "Updating pull request branch.",
                                      "url": f"{req.base}/{r.full_name}/pull/{pull.number}"}, 202)


@routes.add("GET", "/repos/{owner}/{repo}/pulls/{number}/requested_reviewers", "pulls/list-requested-reviewers")
def list_reviewers(store: Store, req: Request, owner: str, repo: str, number: str) -> Response:
    pull = find_pull(find_repo(store, owner, repo), number)
    return ok("pulls/list-requested-reviewers", {"users": [J.user(req, u) for u in pull.requested_reviewers],
                                                  "teams": []})


@routes.add("POST", "/repos/{owner}/{repo}/pulls/{number}/requested_reviewers", "pulls/request-reviewers")
def request_reviewers(store: Store, req: Request, owner: str, repo: str, number: str) -> Response:
    r = find_repo(store, owner, repo)
    pull = find_pull(r, number)
    for login in json_object(req).get("reviewers") or []:
        if login == pull.author:
            raise invalid("Review cannot be requested from pull request author.", field="reviewers")
        if store.options.collaborators is not None and login not in store.options.collaborators:
            raise ApiError(422, J.error(422, NOT_COLLABORATOR.format(repo=r.full_name)))
        if login not in pull.requested_reviewers:
            pull.requested_reviewers.append(str(login))
    return ok("pulls/request-reviewers", pull_json(store, req, r, pull, full=False), 201)


@routes.add("DELETE", "/repos/{owner}/{repo}/pulls/{number}/requested_reviewers", "pulls/remove-requested-reviewers")
def remove_reviewers(store: Store, req: Request, owner: str, repo: str, number: str) -> Response:
    r = find_repo(store, owner, repo)
    pull = find_pull(r, number)
    gone = set(json_object(req).get("reviewers") or [])
    pull.requested_reviewers = [u for u in pull.requested_reviewers if u not in gone]
    return ok("pulls/remove-requested-reviewers", pull_json(store, req, r, pull, full=False))


# --- the issue side of a pull request -----------------------------------------------------------

@routes.add("GET", "/repos/{owner}/{repo}/issues/{number}", "issues/get")
def get_issue(store: Store, req: Request, owner: str, repo: str, number: str) -> Response:
    r = find_repo(store, owner, repo)
    return ok("issues/get", J.issue(req, r, find_pull(r, number)))


@routes.add("GET", "/repos/{owner}/{repo}/issues/{number}/labels", "issues/list-labels-on-issue")
def list_labels(store: Store, req: Request, owner: str, repo: str, number: str) -> Response:
    r = find_repo(store, owner, repo)
    page, headers = paginate(J.labels(req, r, find_pull(r, number)), req)
    return ok("issues/list-labels-on-issue", page, headers=headers)


def _label_names(req: Request) -> list[str]:
    """GitHub accepts a bare array (PyGithub sends one), {"labels": [...]} with names or {name: ...}."""
    body = req.json()
    items: Any = body.get("labels") if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise invalid("labels must be an array", "Label", "labels")
    names = [i.get("name") if isinstance(i, dict) else i for i in items]
    if not all(isinstance(n, str) and n for n in names):
        raise invalid("label names must be non-empty strings", "Label", "labels")
    return [str(n) for n in names]


@routes.add("POST", "/repos/{owner}/{repo}/issues/{number}/labels", "issues/add-labels")
def add_labels(store: Store, req: Request, owner: str, repo: str, number: str) -> Response:
    r = find_repo(store, owner, repo)
    pull = find_pull(r, number)
    for name in _label_names(req):
        store.label_id(r, name)
        if name not in pull.labels:
            pull.labels.append(name)
    return ok("issues/add-labels", J.labels(req, r, pull))


@routes.add("PUT", "/repos/{owner}/{repo}/issues/{number}/labels", "issues/set-labels")
def set_labels(store: Store, req: Request, owner: str, repo: str, number: str) -> Response:
    r = find_repo(store, owner, repo)
    pull = find_pull(r, number)
    names = _label_names(req)
    for name in names:
        store.label_id(r, name)
    pull.labels = list(dict.fromkeys(names))
    return ok("issues/set-labels", J.labels(req, r, pull))


@routes.add("DELETE", "/repos/{owner}/{repo}/issues/{number}/labels/{name}")
def remove_label(store: Store, req: Request, owner: str, repo: str, number: str, name: str) -> Response:
    r = find_repo(store, owner, repo)
    pull = find_pull(r, number)
    if unquote(name) not in pull.labels:
        raise ApiError(404, J.error(404, "Label does not exist"))
    pull.labels.remove(unquote(name))
    return Response(200, J.labels(req, r, pull))


@routes.add("POST", "/repos/{owner}/{repo}/issues/{number}/assignees")
def add_assignees(store: Store, req: Request, owner: str, repo: str, number: str) -> Response:
    """Outside the vendored contract subset (issues/add-assignees): answers 201 with the issue, as GitHub does."""
    r = find_repo(store, owner, repo)
    pull = find_pull(r, number)
    names = json_object(req).get("assignees")
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise invalid("assignees must be an array of logins", "Issue", "assignees")
    pull.assignees.extend(n for n in names if n not in pull.assignees)
    return Response(201, J.issue(req, r, pull))


@routes.add("GET", "/repos/{owner}/{repo}/issues/{number}/comments", "issues/list-comments")
def list_comments(store: Store, req: Request, owner: str, repo: str, number: str) -> Response:
    r = find_repo(store, owner, repo)
    pull = find_pull(r, number)
    page, headers = paginate([J.comment(req, r, pull, c) for c in pull.comments], req)
    return ok("issues/list-comments", page, headers=headers)


@routes.add("POST", "/repos/{owner}/{repo}/issues/{number}/comments", "issues/create-comment")
def create_comment(store: Store, req: Request, owner: str, repo: str, number: str) -> Response:
    r = find_repo(store, owner, repo)
    pull = find_pull(r, number)
    text = json_object(req).get("body")
    if not isinstance(text, str) or not text:
        raise invalid("body is missing", "IssueComment", "body", "missing_field")
    stamp = now_iso()
    c = Comment(store.next_id(), text, store.login(req.token), stamp, stamp)
    pull.comments.append(c)
    return ok("issues/create-comment", J.comment(req, r, pull, c), 201)


@routes.add("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}", "issues/update-comment")
def update_comment(store: Store, req: Request, owner: str, repo: str, comment_id: str) -> Response:
    r = find_repo(store, owner, repo)
    text = json_object(req).get("body")
    for pull in r.pulls.values():
        for c in pull.comments:
            if str(c.id) == comment_id:
                if not isinstance(text, str) or not text:
                    raise invalid("body is missing", "IssueComment", "body", "missing_field")
                c.body, c.updated_at = text, now_iso()
                return ok("issues/update-comment", J.comment(req, r, pull, c))
    raise not_found()
