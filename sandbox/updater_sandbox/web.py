"""The forge's HTTP vocabulary: a parsed request, a response tagged with the contract operation it
answers, an error the API modules raise, and a tiny regex router. No sockets here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode


PREFIXES = {"github": "/api/v3", "graphql": "/api/graphql", "gitlab": "/api/v4"}


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # raw (still percent-encoded), without the API prefix
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    base: str  # scheme://host:port as the client addressed us (from Host), for absolute URLs
    prefix: str = ""  # the API prefix the path was found under (/api/v3, /api/v4)
    token: str = ""  # the credential presented (already checked)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def json(self) -> Any:
        """The JSON body (None when empty); raises ApiError(400) when malformed."""
        if not self.body.strip():
            return None
        try:
            return json.loads(self.body)
        except ValueError as err:
            raise ApiError(400, {"message": "Problems parsing JSON"}, kind="malformed") from err

    def params(self) -> dict[str, Any]:
        """Body object merged over query-string parameters (GitLab reads both; python-gitlab uses both)."""
        merged: dict[str, Any] = {k: v[-1] for k, v in self.query.items()}
        if self.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            merged.update({k: v[-1] for k, v in parse_qs(self.body.decode(errors="replace")).items()})
            return merged
        body = self.json()
        if isinstance(body, dict):
            merged.update(body)
        return merged


@dataclass
class Response:
    status: int
    body: Any = None  # JSON-able, or None for an empty body
    headers: dict[str, str] = field(default_factory=dict)
    operation: str | None = None  # the contract operationId this answers (for validation)


@dataclass(frozen=True)
class LoggedRequest:
    """One entry of the forge's request log."""

    method: str
    path: str  # raw path and query as sent
    service: str  # github | graphql | gitlab | git | web
    operation: str | None  # contract operationId, when the route has one
    status: int | None  # None when the connection was dropped
    body: Any  # the JSON answer (None for git, empty and non-JSON answers)
    seconds: float


class ApiError(Exception):
    """Raised by handlers; the service module turns it into its own error body shape."""

    def __init__(self, status: int, body: dict[str, Any], *, kind: str = "", headers: dict[str, str] | None = None):
        super().__init__(body.get("message") or body.get("error"))
        self.status = status
        self.body = body
        self.kind = kind
        self.headers = headers or {}


Handler = Callable[..., Response]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    operation: str | None


class Router:
    """Routes `(method, raw path)` to a handler called with the request and the named groups."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, pattern: str, operation: str | None = None) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            regex = re.compile("^" + re.sub(r"\{(\w+)\*\}", r"(?P<\1>.+)", re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern)) + "$")
            self.routes.append(Route(method, regex, handler, operation))
            return handler

        return register

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route for this request, or None (the caller answers 404, as GitHub and GitLab do for
        unknown paths and for known paths with an unsupported method)."""
        for route in self.routes:
            if route.method == method and (found := route.pattern.match(path)):
                return route, found.groupdict()
        return None


def boolean(value: Any) -> bool:
    """Grape-style coercion: True/true/1 (python-gitlab renders query booleans as `True`)."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes", "t")


def paginate(items: list[Any], req: Request, *, default: int = 30, limit: int = 100) -> tuple[list[Any], dict[str, str]]:
    """One page of `items` and the Link header pointing at the next/last pages (built from the request's Host)."""
    try:
        page = max(1, int(req.arg("page", "1") or 1))
        per_page = min(limit, max(1, int(req.arg("per_page", str(default)) or default)))
    except ValueError as err:
        raise ApiError(400, {"message": "page and per_page must be integers"}, kind="bad_param") from err
    pages = max(1, -(-len(items) // per_page))
    chunk = items[(page - 1) * per_page: page * per_page]
    headers = {}
    links = []

    def url(n: int) -> str:
        query = {k: v[-1] for k, v in req.query.items()}
        query.update(page=str(n), per_page=str(per_page))
        return f"{req.base}{req.prefix}{req.path}?{urlencode(query)}"

    if page < pages:
        links += [f'<{url(page + 1)}>; rel="next"', f'<{url(pages)}>; rel="last"']
    if page > 1:
        links += [f'<{url(1)}>; rel="first"', f'<{url(page - 1)}>; rel="prev"']
    if links:
        headers["Link"] = ", ".join(links)
    headers.update({"X-Total": str(len(items)), "X-Total-Pages": str(pages), "X-Per-Page": str(per_page),
                    "X-Page": str(page), "X-Next-Page": str(page + 1) if page < pages else "",
                    "X-Prev-Page": str(page - 1) if page > 1 else ""})
    return chunk, headers
