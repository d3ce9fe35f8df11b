"""GitLab's token kinds on the local forge, and the answers the real service gives a token that may
not do a request. Boundary: token records and rules only; the serving layer asks `check_api` for
every `/api/v4` request and `check_git` for every git request (tokens not made here are left alone).

The kinds, as GitLab has them:

- personal access token: a user's, reaching every project that user can (here: every project);
- project access token: a bot user (`project_<id>_bot_<hex>`) that is a member of one project only,
  with a role (Developer, Maintainer...) and scopes;
- group access token: a bot user (`group_<id>_bot_<hex>`), member of one group: every project in it;
- `CI_JOB_TOKEN`: one job's token. Git over HTTP only as user `gitlab-ci-token`, on its own project;
  a push is refused unless the project allows it ("Allow Git push requests to the repository",
  Settings > CI/CD > Job token permissions, GitLab 17.2+, off by default). The REST API accepts it
  (header `JOB-TOKEN`) only on the routes that opt in (jobs, packages, releases, deployments...):
  on any other route GitLab does not consider it, so the request is anonymous: 401.

Scopes (GitLab's `Gitlab::Auth` abilities): `api` is full API access and git read/write; `read_api`
reads the API and clones; `read_repository` clones; `write_repository` clones and pushes. A request
outside the scopes gets 403 `{"error": "insufficient_scope", ..., "scope": "<allowed scopes>"}` on the
API, and over git `You are not allowed to download code.` / `You are not allowed to upload code.`
(GitLab's `auth_download` / `auth_upload` refusals, shown by git as `remote: ...` before a 403).
A revoked or expired token gets GitLab's 401 `invalid_token` answer, with its error_description.
"""

from __future__ import annotations

import secrets
import time
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from updater_sandbox.state import Store
from updater_sandbox.web import Response

SCOPES = frozenset({"api", "read_api", "read_repository", "write_repository"})
ROLES = {"guest": 10, "reporter": 20, "developer": 30, "maintainer": 40, "owner": 50}
JOB_TOKEN_USER = "gitlab-ci-token"

UNAUTHORIZED = {"message": "401 Unauthorized"}
REVOKED = {"error": "invalid_token", "error_description": "Token was revoked. You have to re-authorize from the user."}
EXPIRED = {"error": "invalid_token",
           "error_description": "Token is expired. You can either do re-authorization or token refresh."}
INSUFFICIENT = "The request requires higher privileges than provided by the access token."
GIT_DENIED = ("HTTP Basic: Access denied. If a password was provided for Git authentication, the password was "
              "incorrect or you're required to use a token instead of a password. If a token was provided, it "
              "was either incorrect, expired, or improperly scoped.")
GIT_NOT_FOUND = "The project you were looking for could not be found or you don't have permission to view it."
GIT_NO_DOWNLOAD = "You are not allowed to download code."
GIT_NO_UPLOAD = "You are not allowed to upload code."
GIT_NO_PUSH = "You are not allowed to push code to this project."

# The routes (method, path under /api/v4) the sandbox serves that accept a job token. GitLab's list is
# longer (deployments, environments, packages, releases, secure files, Terraform state...), but no
# merge request, note, label, branch, project or user route is on it.
JOB_TOKEN_ROUTES = (("GET", "/job"),)


@dataclass
class GitLabToken:
    id: int
    kind: str  # personal | project | group | job
    user: str  # the user (for project/group tokens, the bot) it authenticates as
    scopes: frozenset[str]
    role: int  # access level on the projects it reaches (ROLES)
    reach: str | None  # project "group/name" (project, job), group path (group); None: every project
    name: str = "updater"
    revoked: bool = False
    expires: float | None = None  # epoch seconds; None: never

    @property
    def bot(self) -> bool:
        return self.kind in ("project", "group")

    def reaches(self, project: str) -> bool:
        if self.reach is None:
            return True
        if self.kind == "group":
            return project.startswith(self.reach + "/")
        return project == self.reach


@dataclass
class Tokens:
    tokens: dict[str, GitLabToken] = field(default_factory=dict)
    job_token_push: set[str] = field(default_factory=set)  # projects allowing job-token pushes


def tokens_of(store: Store) -> Tokens:
    registry: Tokens | None = getattr(store, "gitlab_tokens", None)
    if registry is None:
        registry = Tokens()
        store.gitlab_tokens = registry  # type: ignore[attr-defined]  # one registry per store
    return registry


def _add(store: Store, kind: str, user: str, scopes: Iterable[str], role: str, reach: str | None,
         prefix: str, expires_in: float | None) -> str:
    wanted = frozenset(scopes)
    if not wanted <= SCOPES and kind != "job":
        raise ValueError(f"unknown GitLab scopes {sorted(wanted - SCOPES)}; known: {sorted(SCOPES)}")
    token = prefix + secrets.token_urlsafe(15)
    with store.lock:
        record = GitLabToken(store.next_id(), kind, user, wanted, ROLES[role], reach,
                             expires=None if expires_in is None else time.time() + expires_in)
        tokens_of(store).tokens[token] = record
        store.logins[token] = user
    return token


def personal_token(store: Store, *, user: str = "alice", scopes: Iterable[str] = ("api",),
                   expires_in: float | None = None) -> str:
    return _add(store, "personal", user, scopes, "maintainer", None, "glpat-", expires_in)


def project_token(store: Store, project: str, *, scopes: Iterable[str] = ("api", "write_repository"),
                  role: str = "developer", expires_in: float | None = None) -> str:
    repo = store.repo(project)
    ident = repo.id if repo else 0
    user = f"project_{ident}_bot_{secrets.token_hex(16)}"
    return _add(store, "project", user, scopes, role, project, "glpat-", expires_in)


def group_token(store: Store, group: str, *, scopes: Iterable[str] = ("api", "write_repository"),
                role: str = "developer", expires_in: float | None = None) -> str:
    user = f"group_{zlib.crc32(group.encode()) % 100_000}_bot_{secrets.token_hex(16)}"
    return _add(store, "group", user, scopes, role, group, "glpat-", expires_in)


def job_token(store: Store, project: str, *, user: str = "alice") -> str:
    """The token of a job running in `project`, started by `user` (it acts with that user's role)."""
    return _add(store, "job", user, (), "developer", project, "glcbt-", None)


def revoke(store: Store, token: str) -> None:
    """Revoke a token (a finished job's token is forgotten instead: GitLab no longer knows it)."""
    with store.lock:
        record = tokens_of(store).tokens[token]
        record.revoked = True


def allow_job_token_push(store: Store, project: str, allowed: bool = True) -> None:
    """The project setting "Allow Git push requests to the repository" (off by default)."""
    with store.lock:
        (tokens_of(store).job_token_push.add if allowed else tokens_of(store).job_token_push.discard)(project)


def record_for(store: Store, token: str | None) -> GitLabToken | None:
    registry: Tokens | None = getattr(store, "gitlab_tokens", None)
    return registry.tokens.get(token) if registry is not None and token else None


def _dead(record: GitLabToken) -> dict[str, str] | None:
    if record.revoked:
        return REVOKED
    if record.expires is not None and time.time() >= record.expires:
        return EXPIRED
    return None


def _project_of(store: Store, path: str) -> str | None:
    """The "group/name" a `/projects/{id}/...` path names (numeric or percent-encoded), else None."""
    if not path.startswith("/projects/"):
        return None
    ident = unquote(path.split("/")[2])
    if ident.isdigit():
        repo = store.repo_by_id(int(ident))
        return repo.full_name if repo else ident
    return ident


def _bearer(error: str, description: str, scope: str | None = None) -> dict[str, str]:
    extra = f', scope="{scope}"' if scope else ""
    return {"WWW-Authenticate": f'Bearer realm="GitLab", error="{error}", error_description="{description}"{extra}'}


def check_api(store: Store, headers: Mapping[str, str], *, method: str, path: str) -> Response | None:
    """None when the GitLab token presented may make this request (or is not one made here), else
    GitLab's answer. `headers` with lower-case names; `path` is under /api/v4."""
    job = headers.get("job-token")
    token = job or headers.get("private-token") or _bearer_token(headers.get("authorization", ""))
    record = record_for(store, token)
    if record is None:
        return None
    if record.kind == "job":
        # Only the JOB-TOKEN header makes GitLab read it as a job token, and only on routes that accept one.
        if not job or (method, path.rstrip("/")) not in JOB_TOKEN_ROUTES or _dead(record):
            return Response(401, UNAUTHORIZED)
        return None
    if job:  # an access token in JOB-TOKEN is not a job token
        return Response(401, UNAUTHORIZED)
    if (dead := _dead(record)) is not None:
        return Response(401, dead, _bearer("invalid_token", dead["error_description"]))
    allowed = ("api", "read_api") if method in ("GET", "HEAD") else ("api",)
    if not record.scopes & set(allowed):
        scope = " ".join(allowed)
        return Response(403, {"error": "insufficient_scope", "error_description": INSUFFICIENT, "scope": scope},
                        _bearer("insufficient_scope", INSUFFICIENT, scope))
    project = _project_of(store, path)
    if project is not None and not record.reaches(project):
        return Response(404, {"message": "404 Project Not Found"})
    if project is not None and method not in ("GET", "HEAD") and record.role < ROLES["developer"]:
        return Response(403, {"message": "403 Forbidden"})
    return None


def _bearer_token(header: str) -> str | None:
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value else None


def check_git(store: Store, credentials: tuple[str, str] | None, *, path: str, push: bool) -> Response | None:
    """None when these Basic credentials may fetch (or with `push`, push) the repository at `path`
    (`/group/name.git/...`), or are not a GitLab token made here; else GitLab's git-over-HTTP answer."""
    project = path.strip("/").split(".git/", 1)[0].removesuffix(".git")
    record = record_for(store, credentials[1] if credentials else None)
    if record is None or credentials is None:
        return None
    if (record.kind == "job" and credentials[0] != JOB_TOKEN_USER) or _dead(record):
        return Response(401, (GIT_DENIED + "\n").encode(),
                        {"WWW-Authenticate": 'Basic realm="GitLab"', "Content-Type": "text/plain"})
    if not record.reaches(project):
        return _text(404, GIT_NOT_FOUND)
    if record.kind == "job":
        if push and project not in tokens_of(store).job_token_push:
            return _text(403, GIT_NO_UPLOAD)
        return None
    if not record.scopes & ({"api", "write_repository"} if push else SCOPES):
        return _text(403, GIT_NO_UPLOAD if push else GIT_NO_DOWNLOAD)
    if push and record.role < ROLES["developer"]:
        return _text(403, GIT_NO_PUSH)
    return None


def _text(status: int, message: str) -> Response:
    return Response(status, (message + "\n").encode(), {"Content-Type": "text/plain"})


def user_fields(store: Store, token: str) -> dict[str, Any]:
    """What `GET /user` adds for this token's user: GitLab marks project and group bots."""
    record = record_for(store, token)
    return {"bot": bool(record and record.bot)}


def token_json(store: Store, token: str) -> dict[str, Any] | None:
    """`GET /personal_access_tokens/self` for a personal, project or group token (None for others)."""
    record = record_for(store, token)
    if record is None or record.kind == "job":
        return None
    expires = (time.strftime("%Y-%m-%d", time.gmtime(record.expires)) if record.expires is not None else None)
    return {"id": record.id, "name": record.name, "revoked": record.revoked, "created_at": "2026-01-01T00:00:00.000Z",
            "description": None, "scopes": sorted(record.scopes), "user_id": record.id, "last_used_at": None,
            "active": _dead(record) is None, "expires_at": expires}


def job_json(store: Store, token: str, base: str) -> dict[str, Any] | None:
    """`GET /job` for a job token: the job it belongs to."""
    record = record_for(store, token)
    if record is None or record.kind != "job":
        return None
    return {"id": record.id, "name": "updater-bump", "status": "running", "stage": "deploy", "ref": "main",
            "tag": False, "allow_failure": False, "web_url": f"{base}/{record.reach}/-/jobs/{record.id}",
            "user": {"username": record.user}, "pipeline": {"id": record.id, "project_id": 0, "status": "running"}}
