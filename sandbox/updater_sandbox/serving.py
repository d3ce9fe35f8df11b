"""One forge request from socket to answer: classify the service, act out an injected fault,
authenticate, route (holding the store lock), turn errors into the service's error body, write the
answer, and record it in the request log (where the validating pytest fixture sees it).
"""

from __future__ import annotations

import json
import logging
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from updater_sandbox import faults as F
from updater_sandbox import gitlab_tokens, merging
from updater_sandbox import (  # noqa: F401 (they register routes)
    github_api, github_apps, github_pulls, gitlab_api, gitlab_notes, gitlab_repository, graphql,
)
from updater_sandbox import signing_api  # noqa: F401 (after github_api: its routes go first)
from updater_sandbox.git_http import basic_auth_password, git_service, read_request_body, repository_path
from updater_sandbox.web import PREFIXES, ApiError, LoggedRequest, Request, Response

if TYPE_CHECKING:
    from updater_sandbox.forge import Forge

log = logging.getLogger("updater.sandbox")

GITHUB_DOCS = "https://docs.github.com/rest"
UNAUTHORIZED = {
    "github": {"message": "Bad credentials", "documentation_url": GITHUB_DOCS, "status": "401"},
    "graphql": {"message": "Bad credentials", "documentation_url": "https://docs.github.com/graphql", "status": "401"},
    "gitlab": {"message": "401 Unauthorized"},
}
MISSING = {"github": {"message": "Requires authentication", "documentation_url": GITHUB_DOCS, "status": "401"}}
FORBIDDEN = {
    "github": {"message": "Resource not accessible by personal access token", "documentation_url": GITHUB_DOCS,
               "status": "403"},
    "graphql": {"message": "Resource not accessible by personal access token", "documentation_url": GITHUB_DOCS,
                "status": "403"},
    "gitlab": {"message": "403 Forbidden"},
}


def service_of(path: str) -> str:
    for service, prefix in (("graphql", "/api/graphql"), ("github", "/api/v3"), ("gitlab", "/api/v4")):
        if path == prefix or path.startswith(prefix + "/"):
            return service
    return "git" if repository_path(path) is not None else "web"


def error_body(service: str, status: int, message: str) -> Any:
    if service in ("github", "graphql"):
        return {"message": message, "documentation_url": GITHUB_DOCS, "status": str(status)}
    if service == "gitlab":
        return {"message": f"{status} {message}"}
    return None


def _error_level(service: str, status: int | None, handler: BaseHTTPRequestHandler) -> int:
    if status is None or status >= 500:
        return logging.WARNING
    if service == "git" and status == 401 and "Authorization" not in handler.headers:
        return logging.DEBUG  # git's first, credential-less request: the normal auth handshake
    return logging.INFO


def dispatch(forge: Forge, handler: BaseHTTPRequestHandler) -> None:
    started = time.monotonic()
    path = urlsplit(handler.path).path
    service = service_of(path)
    recorded = False

    def record(status: int | None, operation: str | None = None, body: Any = None) -> None:
        # before the answer leaves: a client that saw the answer must find it in the log
        nonlocal recorded
        recorded = True
        if status is None or status >= 400:  # every error is logged (the request log has them all too)
            message = body.get("message", body.get("error", "")) if isinstance(body, dict) else ""
            log.log(_error_level(service, status, handler),
                    "forge: %s %s -> %s %s", handler.command, urlsplit(handler.path).path, status or "dropped",
                    message)
        forge.record(LoggedRequest(handler.command, handler.path, service, operation, status,
                                    None if isinstance(body, bytes) else body, time.monotonic() - started))

    try:
        payload = read_request_body(handler)
        fault = forge.take_fault(service, handler.command, handler.path)
        if fault and fault.kind == "slow":
            time.sleep(fault.seconds)
        elif fault and fault.kind == "drop":
            record(None)
            handler.close_connection = True
            handler.connection.shutdown(2)
            return
        elif fault:
            response = _fault_answer(service, fault)
            record(response.status, None, response.body)
            _send(handler, response)
            return
        if service == "git":
            status = _git(forge, handler, path, payload)
            record(status)
            if status == 200 and handler.command == "POST" and git_service(path, "") == "receive-pack":
                merging.observe_refs(forge.store)  # the push may have moved a head or base...
                forge.settle()  # ...and completed an auto-merge
            return
        response = _api(forge, handler, service, payload)
        record(response.status, response.operation, response.body)
        _send(handler, response)
    except (BrokenPipeError, ConnectionResetError):
        if not recorded:
            record(None)
    except Exception:  # a forge bug must not kill the server: log it, answer like the service would
        log.exception("forge: %s %s failed", handler.command, handler.path)
        body = error_body(service, 500, "Internal Server Error")
        if not recorded:
            record(500, None, body)
        try:
            _send(handler, Response(500, body))
        except OSError:
            pass


def _send(handler: BaseHTTPRequestHandler, response: Response) -> None:
    raw = response.body if isinstance(response.body, bytes) else (
        b"" if response.body is None else json.dumps(response.body, separators=(",", ":")).encode())
    handler.send_response(response.status)
    headers = {"Content-Type": "application/json; charset=utf-8", **response.headers}
    if not raw and response.status == 204:
        headers.pop("Content-Type")
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(raw)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(raw)


def _fault_answer(service: str, fault: F.Fault) -> Response:
    if fault.kind in ("rate_limit", "secondary_rate_limit") and service != "git":
        status, headers, body = F.rate_limit_answer(fault, "gitlab" if service == "gitlab" else "github",
                                                    int(time.time()) + (fault.retry_after or 60))
    else:
        status, headers = fault.status, {}
        body = error_body(service, status, "Bad Gateway" if status == 502 else "Injected failure")
        if service in ("git", "web"):
            body, headers = f"injected {status}\n".encode(), {"Content-Type": "text/plain"}
    return Response(status, body, headers)


def _token(handler: BaseHTTPRequestHandler, service: str) -> str | None:
    headers = handler.headers
    if service == "gitlab" and (headers.get("PRIVATE-TOKEN") or headers.get("JOB-TOKEN")):
        return headers.get("PRIVATE-TOKEN") or headers["JOB-TOKEN"]
    scheme, _, value = (headers.get("Authorization") or "").partition(" ")
    if scheme.lower() in ("token", "bearer") and value:
        return value.strip()
    credentials = basic_auth_password(handler)
    return credentials[1] if credentials else None


def _git(forge: Forge, handler: BaseHTTPRequestHandler, path: str, payload: bytes) -> int:
    gitsvc = git_service(path, urlsplit(handler.path).query)
    credentials = basic_auth_password(handler)
    # an installation token: forgotten once expired (then 401 below), refused a push without contents: write
    with forge.store.lock:
        denied = github_apps.check_token(forge.store, credentials[1] if credentials else None, method=handler.command,
                                         path=repository_path(path) or path, git_push=gitsvc == "receive-pack")
    if denied is not None and denied.status == 403:
        _send(handler, denied)
        return 403
    with forge.store.lock:  # GitLab's token kinds: scopes, reach, the job token's push setting
        denied = gitlab_tokens.check_git(forge.store, credentials, path=repository_path(path) or path,
                                         push=gitsvc == "receive-pack")
    if denied is not None:
        _send(handler, denied)
        return denied.status
    if credentials is None or credentials[1] not in forge.store.logins:
        _send(handler, Response(401, b"Authentication required\n",
                                {"WWW-Authenticate": 'Basic realm="updater-sandbox"', "Content-Type": "text/plain"}))
        return 401
    if gitsvc == "receive-pack" and credentials[1] in forge.store.read_only:
        _send(handler, Response(403, b"Permission to push denied: the token is read-only\n",
                                {"Content-Type": "text/plain"}))
        return 403
    return forge.backend.serve(handler, repository_path(path) or path, urlsplit(handler.path).query,
                               user=forge.store.login(credentials[1]), body=payload)


def _api(forge: Forge, handler: BaseHTTPRequestHandler, service: str, payload: bytes) -> Response:
    token = _token(handler, service)
    if service == "web":
        return Response(404, b"Not Found\n", {"Content-Type": "text/plain"})
    if service in ("github", "graphql"):  # GitHub Apps: JWT-authenticated routes, scoped installation tokens
        path = urlsplit(handler.path).path[len(PREFIXES.get(service, "")):] or "/"
        with forge.store.lock:
            if service == "github" and github_apps.is_app_route(path):
                return github_apps.authenticate_jwt(forge.store, parse_request(handler, service, payload, token or ""))
            denied = github_apps.check_token(forge.store, token, method=handler.command, path=path)
        if denied is not None:
            return denied
    if service == "gitlab":  # GitLab's token kinds: revoked/expired, scopes, reach, the job token's routes
        path = urlsplit(handler.path).path[len(PREFIXES["gitlab"]):] or "/"
        with forge.store.lock:
            denied = gitlab_tokens.check_api(forge.store, {k.lower(): v for k, v in handler.headers.items()},
                                             method=handler.command, path=path)
        if denied is not None:
            return denied
    if token is None or token not in forge.store.logins:
        body = MISSING.get(service, UNAUTHORIZED[service]) if token is None else UNAUTHORIZED[service]
        headers = {"WWW-Authenticate": 'Bearer realm="updater-sandbox"'} if service == "gitlab" else {}
        return Response(401, body, headers)
    if handler.command != "GET" and token in forge.store.read_only and service != "graphql":
        return Response(403, FORBIDDEN[service])
    req = parse_request(handler, service, payload, token)
    with forge.store.lock:
        if service == "graphql":
            response = graphql.handle(forge.store, req)
        else:
            response = _route(forge, service, req)
    if handler.command != "GET":
        forge.settle()
    return response


def _route(forge: Forge, service: str, req: Request) -> Response:
    module = github_api if service == "github" else gitlab_api
    found = module.routes.match(req.method, req.path)
    if found is None:
        if service == "github":
            return Response(404, {"message": "Not Found", "documentation_url": GITHUB_DOCS, "status": "404"})
        return Response(404, {"error": "404 Not Found"})
    route, groups = found
    try:
        response: Response = route.handler(forge.store, req, **groups)
    except ApiError as err:
        body = err.body
        if service == "gitlab" and err.kind == "malformed":
            body = {"message": "400 Bad request - Problems parsing JSON"}
        response = Response(err.status, body, err.headers)
    if response.operation is None:
        response.operation = route.operation
    return response


def parse_request(handler: BaseHTTPRequestHandler, service: str, body: bytes, token: str) -> Request:
    parts = urlsplit(handler.path)
    prefix = PREFIXES.get(service, "")
    host = handler.headers.get("Host") or "127.0.0.1"
    return Request(
        method=handler.command, path=parts.path[len(prefix):] or "/",
        query=parse_qs(parts.query, keep_blank_values=True),
        headers={k.lower(): v for k, v in handler.headers.items()}, body=body, base=f"http://{host}",
        prefix=prefix, token=token,
    )
