"""GitLab v4 project, repository branches and commit statuses as a reader sees them, registered on
`updater_sandbox.gitlab_api.routes` (merge requests stay in that module)."""

from __future__ import annotations

from urllib.parse import unquote

from updater_sandbox import gitlab_json as J
from updater_sandbox.bare import ZERO, RefMoved
from updater_sandbox.gitlab_api import P, error, find_project, ok, routes
from updater_sandbox.state import Repo, Store
from updater_sandbox.web import ApiError, Request, Response, paginate


@routes.add("GET", P, "getApiV4ProjectsId")
def get_project(store: Store, req: Request, id: str) -> Response:
    return ok("getApiV4ProjectsId", J.project(req, find_project(store, id)))


# GitHub's status words (the store's) -> GitLab's commit-status words
_GITLAB_STATUS = {"success": "success", "failure": "failed", "error": "canceled", "pending": "pending"}


@routes.add("GET", P + "/repository/commits/{sha}/statuses")  # not in the vendored contract subset yet
def list_commit_statuses(store: Store, req: Request, id: str, sha: str) -> Response:
    """The commit's statuses, newest first (`updater promote` and `status` read the agent's here)."""
    repo = find_project(store, id)
    full = repo.bare.rev_parse(sha) or sha
    return ok(None, [{"id": s.id, "sha": s.sha, "ref": None, "status": _GITLAB_STATUS.get(s.state, s.state),
                      "name": s.context, "target_url": s.target_url, "description": s.description,
                      "created_at": s.created_at, "started_at": s.created_at, "finished_at": s.updated_at,
                      "allow_failure": False, "coverage": None, "pipeline_id": None,
                      "author": J.user(s.creator)} for s in repo.statuses_for(full)])


# --- branches -----------------------------------------------------------------------------------

@routes.add("GET", P + "/repository/branches", "getApiV4ProjectsIdRepositoryBranches")
def list_branches(store: Store, req: Request, id: str) -> Response:
    repo = find_project(store, id)
    search = req.arg("search") or ""
    items = [J.branch(req, repo, n, s) for n, s in sorted(repo.bare.branches().items()) if search in n]
    page, headers = paginate(items, req, default=20)
    return ok("getApiV4ProjectsIdRepositoryBranches", page, headers=headers)


@routes.add("POST", P + "/repository/branches", "postApiV4ProjectsIdRepositoryBranches")
def create_branch(store: Store, req: Request, id: str) -> Response:
    repo = find_project(store, id)
    params = req.params()
    name, ref = params.get("branch"), params.get("ref")
    if not name or not ref:
        raise ApiError(400, {"error": "branch is missing" if not name else "ref is missing"})
    sha = repo.bare.rev_parse(str(ref))
    if sha is None:
        raise error(400, "Invalid reference name: " + str(ref))
    try:
        repo.bare.update_ref(f"refs/heads/{name}", sha, ZERO)
    except RefMoved as err:
        raise error(400, "Branch already exists") from err
    return ok("postApiV4ProjectsIdRepositoryBranches", J.branch(req, repo, str(name), sha), 201)


def _branch(repo: Repo, encoded: str) -> tuple[str, str]:
    name = unquote(encoded)
    sha = repo.bare.branches().get(name)
    if sha is None:
        raise error(404, "404 Branch Not Found")
    return name, sha


@routes.add("GET", P + "/repository/branches/{branch*}", "getApiV4ProjectsIdRepositoryBranchesBranch")
def get_branch(store: Store, req: Request, id: str, branch: str) -> Response:
    repo = find_project(store, id)
    name, sha = _branch(repo, branch)
    return ok("getApiV4ProjectsIdRepositoryBranchesBranch", J.branch(req, repo, name, sha))


@routes.add("DELETE", P + "/repository/branches/{branch*}", "deleteApiV4ProjectsIdRepositoryBranchesBranch")
def delete_branch(store: Store, req: Request, id: str, branch: str) -> Response:
    repo = find_project(store, id)
    name, sha = _branch(repo, branch)
    repo.bare.delete_ref(f"refs/heads/{name}", sha)
    return Response(204, None, {}, "deleteApiV4ProjectsIdRepositoryBranchesBranch")


# --- merge requests -----------------------------------------------------------------------------
