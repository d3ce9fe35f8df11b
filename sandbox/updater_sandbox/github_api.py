"""GitHub REST v3 under `/api/v3`: the routes a PR bot uses (see `updater_sandbox.schemas` for the
contract each one answers), reading and writing `updater_sandbox.state` and the bare repositories.

Handlers run with the store lock held (the forge takes it) and raise `ApiError` with GitHub's error
bodies; `handle` turns anything else into GitHub's 500 body.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from updater_sandbox import github_json as J
from updater_sandbox import merging, schemas, web_flow
from updater_sandbox.bare import ZERO, RefMoved
from updater_sandbox.state import Pull, Repo, Store, now_iso
from updater_sandbox.web import ApiError, Request, Response, Router, paginate

routes = Router()
SERVICE = "github"


def not_found() -> ApiError:
    return ApiError(404, J.error(404, "Not Found"))


def invalid(message: str, resource: str = "PullRequest", field: str | None = None, code: str = "custom") -> ApiError:
    detail = {"resource": resource, "code": code, "message": message, **({"field": field} if field else {})}
    return ApiError(422, J.error(422, "Validation Failed", [detail]))


def ok(op: str, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status, schemas.complete(SERVICE, op, status, body), headers or {}, op)


def find_repo(store: Store, owner: str, name: str) -> Repo:
    repo = store.repo(f"{unquote(owner)}/{unquote(name)}")
    if repo is None:
        raise not_found()
    return repo


def find_pull(repo: Repo, number: str) -> Pull:
    pull = repo.pulls.get(int(number)) if number.isdigit() else None
    if pull is None:
        raise not_found()
    return pull


def json_object(req: Request) -> dict[str, Any]:
    body = req.json()
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ApiError(400, J.error(400, "Problems parsing JSON"))
    return body


def pull_json(store: Store, req: Request, repo: Repo, pull: Pull, *, full: bool = True) -> dict[str, Any]:
    return J.pull(req, repo, pull, merging.assess(store, repo, pull), full=full)


# --- account and meta ---------------------------------------------------------------------------

@routes.add("GET", "/", "meta/root")
def root(store: Store, req: Request) -> Response:
    return ok("meta/root", {"current_user_url": f"{J.api(req)}/user"})


@routes.add("GET", "/user", "users/get-authenticated")
def get_user(store: Store, req: Request) -> Response:
    login = store.login(req.token)
    return ok("users/get-authenticated", {**J.user(req, login), "name": login, "created_at": now_iso(),
                                          "updated_at": now_iso(), "user_view_type": "private"})


@routes.add("GET", "/rate_limit", "rate-limit/get")
def rate_limit(store: Store, req: Request) -> Response:
    core = {"limit": 5000, "remaining": 4999, "reset": 4102444800, "used": 1}
    return ok("rate-limit/get", {"rate": core, "resources": {"core": core, "search": core, "graphql": core}})


# --- repository, refs, branches, commits --------------------------------------------------------

@routes.add("GET", "/repos/{owner}/{repo}", "repos/get")
def get_repo(store: Store, req: Request, owner: str, repo: str) -> Response:
    return ok("repos/get", J.repository(req, find_repo(store, owner, repo)))


@routes.add("GET", "/repos/{owner}/{repo}/git/ref/{ref*}", "git/get-ref")
def get_ref(store: Store, req: Request, owner: str, repo: str, ref: str) -> Response:
    r = find_repo(store, owner, repo)
    name = "refs/" + unquote(ref)
    sha = r.bare.refs(name).get(name)
    if sha is None:
        raise not_found()
    return ok("git/get-ref", J.ref(req, r, name, sha))


@routes.add("GET", "/repos/{owner}/{repo}/git/refs", "git/list-matching-refs")
@routes.add("GET", "/repos/{owner}/{repo}/git/refs/", "git/list-matching-refs")
def all_refs(store: Store, req: Request, owner: str, repo: str) -> Response:
    """Every branch and tag (octokit's git-refs fixture lists them at `git/refs/`)."""
    r = find_repo(store, owner, repo)
    refs = {**r.bare.refs("refs/heads/"), **r.bare.refs("refs/tags/")}
    return ok("git/list-matching-refs", [J.ref(req, r, n, s) for n, s in sorted(refs.items())])


@routes.add("GET", "/repos/{owner}/{repo}/git/matching-refs/{ref*}", "git/list-matching-refs")
def matching_refs(store: Store, req: Request, owner: str, repo: str, ref: str) -> Response:
    r = find_repo(store, owner, repo)
    prefix = "refs/" + unquote(ref)
    refs = r.bare.refs(prefix.rsplit("/", 1)[0] + "/" if "/" in prefix else prefix)
    found = [J.ref(req, r, n, s) for n, s in sorted(refs.items()) if n.startswith(prefix)]
    return ok("git/list-matching-refs", found)


@routes.add("POST", "/repos/{owner}/{repo}/git/refs", "git/create-ref")
def create_ref(store: Store, req: Request, owner: str, repo: str) -> Response:
    r = find_repo(store, owner, repo)
    body = json_object(req)
    name, sha = body.get("ref"), body.get("sha")
    if not isinstance(name, str) or not name.startswith("refs/") or name.count("/") < 2 or not isinstance(sha, str):
        raise invalid("Reference name must start with 'refs/' and have at least two slashes.", "Reference", "ref")
    if r.bare.rev_parse(sha) is None:
        raise invalid("Object does not exist", "Reference", "sha")
    try:
        r.bare.update_ref(name, r.bare.rev_parse(sha) or sha, ZERO)
    except RefMoved as err:
        raise invalid("Reference already exists", "Reference", "ref") from err
    return ok("git/create-ref", J.ref(req, r, name, r.bare.rev_parse(sha) or sha), 201)


@routes.add("PATCH", "/repos/{owner}/{repo}/git/refs/{ref*}", "git/update-ref")
def update_ref(store: Store, req: Request, owner: str, repo: str, ref: str) -> Response:
    r = find_repo(store, owner, repo)
    body = json_object(req)
    name = "refs/" + unquote(ref)
    old = r.bare.refs(name).get(name)
    new = r.bare.rev_parse(str(body.get("sha", "")))
    if old is None:
        raise invalid("Reference does not exist", "Reference", "ref")
    if new is None:
        raise invalid("Object does not exist", "Reference", "sha")
    if not body.get("force") and not r.bare.is_ancestor(old, new):
        raise invalid("Update is not a fast forward", "Reference", "sha")
    try:
        r.bare.update_ref(name, new, old)
    except RefMoved as err:
        raise ApiError(409, J.error(409, "Reference update failed: the ref moved")) from err
    return ok("git/update-ref", J.ref(req, r, name, new))


@routes.add("DELETE", "/repos/{owner}/{repo}/git/refs/{ref*}", "git/delete-ref")
def delete_ref(store: Store, req: Request, owner: str, repo: str, ref: str) -> Response:
    r = find_repo(store, owner, repo)
    name = "refs/" + unquote(ref)
    old = r.bare.refs(name).get(name)
    if old is None:
        raise invalid("Reference does not exist", "Reference", "ref")
    r.bare.delete_ref(name, old)
    return Response(204, None, {}, "git/delete-ref")


@routes.add("GET", "/repos/{owner}/{repo}/branches", "repos/list-branches")
def list_branches(store: Store, req: Request, owner: str, repo: str) -> Response:
    r = find_repo(store, owner, repo)
    items = [{"name": n, "commit": {"sha": s, "url": f"{J.api(req)}/repos/{r.full_name}/commits/{s}"},
              "protected": n in r.settings.protected} for n, s in sorted(r.bare.branches().items())]
    page, headers = paginate(items, req)
    return ok("repos/list-branches", page, headers=headers)


@routes.add("GET", "/repos/{owner}/{repo}/branches/{branch*}", "repos/get-branch")
def get_branch(store: Store, req: Request, owner: str, repo: str, branch: str) -> Response:
    r = find_repo(store, owner, repo)
    name = unquote(branch)
    sha = r.bare.branches().get(name)
    if sha is None:
        raise ApiError(404, J.error(404, "Branch not found"))
    return ok("repos/get-branch", J.branch(req, r, name, sha))


@routes.add("GET", "/repos/{owner}/{repo}/statuses/{ref}", "repos/list-commit-statuses-for-ref")  # PyGithub's path
@routes.add("GET", "/repos/{owner}/{repo}/commits/{ref*}/statuses", "repos/list-commit-statuses-for-ref")
def list_statuses(store: Store, req: Request, owner: str, repo: str, ref: str) -> Response:
    r = find_repo(store, owner, repo)
    sha = r.bare.rev_parse(unquote(ref)) or unquote(ref)
    page, headers = paginate([J.status(req, r, s) for s in r.statuses_for(sha)], req)
    return ok("repos/list-commit-statuses-for-ref", page, headers=headers)


@routes.add("GET", "/repos/{owner}/{repo}/commits/{ref*}/status", "repos/get-combined-status-for-ref")
def combined_status(store: Store, req: Request, owner: str, repo: str, ref: str) -> Response:
    r = find_repo(store, owner, repo)
    sha = r.bare.rev_parse(unquote(ref))
    if sha is None:
        raise not_found()
    latest = sorted(r.latest_statuses(sha).values(), key=lambda s: s.id)  # github.com: oldest context first
    body = {"state": merging.combined([s.state for s in latest]), "sha": sha, "total_count": len(latest),
            "statuses": [{k: v for k, v in J.status(req, r, s).items() if k != "creator"} | {"required": None}
                         for s in latest],
            "repository": J.repository(req, r), "commit_url": f"{J.api(req)}/repos/{r.full_name}/commits/{sha}",
            "url": f"{J.api(req)}/repos/{r.full_name}/commits/{sha}/status"}
    return ok("repos/get-combined-status-for-ref", body)


@routes.add("GET", "/repos/{owner}/{repo}/commits/{ref*}/check-runs", "checks/list-for-ref")
def check_runs(store: Store, req: Request, owner: str, repo: str, ref: str) -> Response:
    find_repo(store, owner, repo)
    return ok("checks/list-for-ref", {"total_count": 0, "check_runs": []})


@routes.add("GET", "/repos/{owner}/{repo}/commits/{ref*}", "repos/get-commit")
def get_commit(store: Store, req: Request, owner: str, repo: str, ref: str) -> Response:
    r = find_repo(store, owner, repo)
    sha = r.bare.rev_parse(unquote(ref))
    if sha is None:
        raise ApiError(422, J.error(422, f"No commit found for SHA: {unquote(ref)}"))
    info = r.bare.commit(sha)
    body = {**J.commit(req, r, info), "files": [], "stats": {"total": 0, "additions": 0, "deletions": 0}}
    # GitHub's signature check (web-flow for the forge's own API commits); only here: it costs a git process
    body["commit"]["verification"] = web_flow.verification(store, r.bare, sha)
    return ok("repos/get-commit", body)


@routes.add("GET", "/repos/{owner}/{repo}/compare/{basehead*}", "repos/compare-commits-with-basehead")
def compare(store: Store, req: Request, owner: str, repo: str, basehead: str) -> Response:
    r = find_repo(store, owner, repo)
    base_name, sep, head_name = unquote(basehead).partition("...")
    base, head = r.bare.rev_parse(base_name), r.bare.rev_parse(head_name)
    if not sep or base is None or head is None:
        raise not_found()
    merge_base = r.bare.merge_base(base, head) or base
    ahead, behind = r.bare.count(base, head), r.bare.count(head, base)
    state = ("identical" if base == head else "ahead" if not behind else "behind" if not ahead else "diverged")
    url = f"{J.api(req)}/repos/{r.full_name}/compare/{base_name}...{head_name}"
    html = f"{req.base}/{r.full_name}/compare/{base_name}...{head_name}"
    body = {"url": url, "html_url": html, "permalink_url": html, "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch", "base_commit": J.commit(req, r, r.bare.commit(base)),
            "merge_base_commit": J.commit(req, r, r.bare.commit(merge_base)), "status": state,
            "ahead_by": ahead, "behind_by": behind, "total_commits": ahead,
            "commits": [J.commit(req, r, r.bare.commit(s)) for s in r.bare.commits_between(base, head)],
            "files": [{"filename": f, "status": "modified", "sha": None, "additions": 0, "deletions": 0,
                       "changes": 0, "blob_url": html, "raw_url": html, "contents_url": url}
                      for f in r.bare.changed_files(merge_base, head)]}
    return ok("repos/compare-commits-with-basehead", body)


@routes.add("POST", "/repos/{owner}/{repo}/statuses/{sha}", "repos/create-commit-status")
def create_status(store: Store, req: Request, owner: str, repo: str, sha: str) -> Response:
    r = find_repo(store, owner, repo)
    body = json_object(req)
    state = body.get("state")
    if state not in ("error", "failure", "pending", "success"):
        raise invalid("state is not included in the list", "Status", "state")
    full = r.bare.rev_parse(sha)
    if full is None:
        raise invalid(f"No commit found for SHA: {sha}", "Status", "sha")
    status = store.add_status(r, full, state, str(body.get("context") or "default"),
                              description=body.get("description"), target_url=body.get("target_url"),
                              creator=store.login(req.token))
    return ok("repos/create-commit-status", J.status(req, r, status), 201)
