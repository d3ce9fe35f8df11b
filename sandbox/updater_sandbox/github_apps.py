"""GitHub Apps on the local forge: `GET /app`, `GET /repos/{owner}/{repo}/installation` and
`POST /app/installations/{id}/access_tokens`, authenticated by the app's JWT, and the installation
tokens they mint (short-lived, permission-scoped). Boundary: app registry and token rules only; the
serving layer asks `authenticate_jwt` for app routes and `check_token` for every other request.

The JWT is verified as GitHub does (RS256 against the app's public key, with PyJWT): `iss` must be
the app id, `exp` must be in the future and at most 10 minutes after `iat`, and `iat` may be up to
60 seconds in the future (GitHub's clock-skew allowance; clients back-date it by 60 s). Installation
tokens expire after `token_ttl` seconds (GitHub: one hour; tests use a few seconds) and carry the
installation's permissions: a write without the permission (`pull_requests` for PRs and their labels,
`statuses` for commit statuses, which also need `statuses: read` to be listed) gets GitHub's 403
"Resource not accessible by integration"; `revoke` uninstalls the app (its tokens stop working); an expired token gets 401 "Bad credentials" like any unknown one.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import jwt

from updater_sandbox.state import Store
from updater_sandbox.web import Request, Response

DOCS = "https://docs.github.com/rest"
MAX_JWT_LIFETIME = 600  # GitHub: exp no more than 10 minutes into the future
CLOCK_SKEW = 60  # GitHub: iat may be up to 60 s ahead of its clock

_APP = re.compile(r"^/app/?$")
_REPO_INSTALLATION = re.compile(r"^/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/installation/?$")
_ACCESS_TOKENS = re.compile(r"^/app/installations/(?P<id>\d+)/access_tokens/?$")
# Writes that need pull_requests: write (labels on a PR go through the issues API).
_PR_WRITES = re.compile(r"^/repos/[^/]+/[^/]+/(pulls|issues)(/|$)")
# Commit statuses: reading needs statuses: read (or write), creating one statuses: write.
_STATUSES = re.compile(r"^/repos/[^/]+/[^/]+/(statuses/[^/]+|commits/.+/(statuses|status))/?$")


@dataclass
class Installation:
    id: int
    repos: set[str]  # "owner/name"
    permissions: dict[str, str]
    suspended: bool = False


@dataclass
class App:
    id: int
    slug: str
    public_key: str  # PEM
    installations: dict[int, Installation] = field(default_factory=dict)
    token_ttl: float = 3600.0


@dataclass(frozen=True)
class Minted:
    app: App
    installation: Installation
    expires: float


class Apps:
    """The apps one forge knows, and the installation tokens they minted."""

    def __init__(self) -> None:
        self.apps: dict[int, App] = {}
        self.tokens: dict[str, Minted] = {}
        self.minted: list[str] = []  # every token handed out, in order (tests read it)
        self.lock = threading.Lock()
        self._next_installation = 100


def apps_of(store: Store) -> Apps:
    registry: Apps | None = getattr(store, "github_apps", None)
    if registry is None:
        registry = Apps()
        store.github_apps = registry  # type: ignore[attr-defined]  # one registry per store
    return registry


def register_app(store: Store, app_id: int, public_key_pem: str, *, slug: str = "updater-app",
                 token_ttl: float = 3600.0) -> App:
    app = App(app_id, slug, public_key_pem, token_ttl=token_ttl)
    apps_of(store).apps[app_id] = app
    return app


def install(store: Store, app: App, repos: list[str], *, permissions: dict[str, str] | None = None) -> Installation:
    registry = apps_of(store)
    with registry.lock:
        registry._next_installation += 1
        number = registry._next_installation
    default = {"contents": "write", "pull_requests": "write", "statuses": "write", "metadata": "read"}
    installation = Installation(number, set(repos), dict(default if permissions is None else permissions))
    app.installations[number] = installation
    return installation


def revoke(store: Store, app: App, installation: Installation) -> None:
    """Uninstall: the installation is gone (its routes answer 404) and so are the tokens it minted."""
    registry = apps_of(store)
    app.installations.pop(installation.id, None)
    with registry.lock:
        for token, minted in list(registry.tokens.items()):
            if minted.installation is installation:
                del registry.tokens[token]
                store.logins.pop(token, None)


def is_app_route(path: str) -> bool:
    return bool(_APP.match(path) or _REPO_INSTALLATION.match(path) or _ACCESS_TOKENS.match(path))


def _error(status: int, message: str) -> Response:
    return Response(status, {"message": message, "documentation_url": DOCS, "status": str(status)})


def _verify(store: Store, token: str | None) -> App | Response:
    if not token:
        return _error(401, "A JSON web token could not be decoded")
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
        app = apps_of(store).apps.get(int(str(unverified.get("iss"))))
    except (jwt.PyJWTError, ValueError):
        return _error(401, "A JSON web token could not be decoded")
    if app is None:
        return _error(401, "Integration not found")
    try:
        claims = jwt.decode(token, app.public_key, algorithms=["RS256"], issuer=str(app.id),
                            options={"require": ["iat", "exp", "iss"]}, leeway=0,
                            # iat in the future is GitHub's "skew" error, checked below with its allowance
                            )
    except jwt.ExpiredSignatureError:
        return _error(401, "'Expiration time' claim ('exp') must be a numeric value representing the future time "
                           "at which the assertion expires")
    except jwt.ImmatureSignatureError:
        return _error(401, "'Issued at' claim ('iat') must be an Integer representing the time that the assertion "
                           "was issued")
    except jwt.PyJWTError:
        return _error(401, "A JSON web token could not be decoded")
    now = time.time()
    if int(claims["iat"]) > now + CLOCK_SKEW:
        return _error(401, "'Issued at' claim ('iat') must be an Integer representing the time that the assertion "
                           "was issued")
    if int(claims["exp"]) - max(int(claims["iat"]), int(now) - CLOCK_SKEW) > MAX_JWT_LIFETIME + CLOCK_SKEW:
        return _error(401, "'Expiration time' claim ('exp') is too far in the future")
    return app


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def authenticate_jwt(store: Store, req: Request) -> Response:
    """Answer an app route (the caller routed it here because `is_app_route`)."""
    verified = _verify(store, req.token)
    if isinstance(verified, Response):
        return verified
    app = verified
    base = f"{req.base}{req.prefix}"
    if req.method == "GET" and _APP.match(req.path):
        return Response(200, {"id": app.id, "slug": app.slug, "node_id": f"A_{app.id}", "name": app.slug,
                              "owner": {"login": "acme", "id": 1, "type": "Organization"},
                              "html_url": f"{req.base}/apps/{app.slug}", "created_at": _iso(0),
                              "updated_at": _iso(0), "permissions": {}, "events": [],
                              "installations_count": len(app.installations)})
    if req.method == "GET" and (found := _REPO_INSTALLATION.match(req.path)):
        full = f"{found['owner']}/{found['repo']}"
        for each in app.installations.values():
            if full in each.repos:
                return Response(200, _installation_json(base, app, each))
        return _error(404, "Not Found")
    if req.method == "POST" and (found := _ACCESS_TOKENS.match(req.path)):
        chosen = app.installations.get(int(found["id"]))
        if chosen is None:
            return _error(404, "Not Found")
        installation = chosen
        if installation.suspended:
            return _error(403, "This installation has been suspended")
        token = "ghs_" + secrets.token_hex(18)
        expires = time.time() + app.token_ttl
        registry = apps_of(store)
        registry.tokens[token] = Minted(app, installation, expires)
        registry.minted.append(token)
        store.logins[token] = f"{app.slug}[bot]"
        return Response(201, {"token": token, "expires_at": _iso(expires), "permissions": installation.permissions,
                              "repository_selection": "selected"})
    return _error(404, "Not Found")


def _installation_json(base: str, app: App, installation: Installation) -> dict[str, Any]:
    return {"id": installation.id, "app_id": app.id, "app_slug": app.slug, "target_type": "Organization",
            "account": {"login": "acme", "id": 1, "type": "Organization"},
            "access_tokens_url": f"{base}/app/installations/{installation.id}/access_tokens",
            "repositories_url": f"{base}/installation/repositories", "permissions": installation.permissions,
            "events": [], "repository_selection": "selected", "created_at": _iso(0), "updated_at": _iso(0),
            "suspended_at": _iso(time.time()) if installation.suspended else None}


def check_token(store: Store, token: str | None, *, method: str, path: str, git_push: bool = False) -> Response | None:
    """For an installation token: None when it may make this request, else the answer GitHub gives
    (an expired token is forgotten: 401 like any unknown token, from the caller's check)."""
    registry = getattr(store, "github_apps", None)
    if registry is None or token is None or token not in registry.tokens:
        return None
    minted: Minted = registry.tokens[token]
    if time.time() >= minted.expires or minted.installation.suspended:
        store.logins.pop(token, None)
        del registry.tokens[token]
        return _error(401, "Bad credentials")
    permissions = minted.installation.permissions
    if git_push and permissions.get("contents") != "write":
        return Response(403, f"Permission to {path} denied to {minted.app.slug}[bot].\n".encode(),
                        {"Content-Type": "text/plain"})
    if method != "GET" and _PR_WRITES.match(path) and permissions.get("pull_requests") != "write":
        return _error(403, "Resource not accessible by integration")
    if _STATUSES.match(path) and permissions.get("statuses") not in (("write",) if method != "GET" else
                                                                     ("read", "write")):
        return _error(403, "Resource not accessible by integration")
    return None


def may_write_contents(store: Store, token: str) -> str | None:
    """None when `token` may write a repository's contents through the API (createCommitOnBranch,
    updateRefs), else GitHub's refusal message: a read-only token, or an installation token without
    `contents: write`."""
    registry = getattr(store, "github_apps", None)
    if registry is not None and token in registry.tokens:
        ok = registry.tokens[token].installation.permissions.get("contents") == "write"
        return None if ok else "Resource not accessible by integration"
    return "Resource not accessible by personal access token" if token in store.read_only else None
