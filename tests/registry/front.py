"""A pass-through HTTP front for the real registry, adding what distribution 2.8 lacks or what a
test must provoke: tag-list paging as the spec describes it (`?n=`/`last=` and a
`Link: <...>; rel="next"` header, as distribution 3, Docker Hub and GHCR send), and answers the
registry would only give under load (429 with Retry-After) or when hostile (a Link to another host).

Distribution 2.8 ignores `n` on tag lists (it pages only `_catalog`), so paging cannot be tested
against it alone. Everything else is forwarded byte for byte, auth headers and challenges included.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import requests

_HOP = {"connection", "transfer-encoding", "content-length", "keep-alive"}


class Front:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.paths: list[str] = []  # every request's path?query, in order
        self.auth_schemes: list[str | None] = []  # each request's Authorization scheme ("Basic", "Bearer") or None
        self.rate_limited = 0  # answer this many next requests with 429
        self.unavailable = 0  # answer this many next requests with 503
        self.retry_after = "1"
        self.foreign_link = False  # page links point at another host
        self.corrupt_manifests = False  # flip a byte of every manifest body (its digest header kept)
        self.redirect_blobs: str | None = None  # send blob GETs there (like a registry's storage CDN)
        self.upstream_login: tuple[str, str] | None = None  # log in upstream itself (a presigned URL's stand-in)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self.host = f"127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @contextmanager
    def running(self) -> Iterator[Front]:
        self._thread.start()
        try:
            yield self
        finally:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(10)


def _handler(front: Front) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self._forward()

        def do_HEAD(self) -> None:
            self._forward()

        def _forward(self) -> None:
            front.paths.append(self.path)
            authorization = self.headers.get("Authorization")
            front.auth_schemes.append(authorization.split(" ", 1)[0] if authorization else None)
            if front.unavailable:
                front.unavailable -= 1
                self._answer(503, {"Content-Type": "text/plain"}, b"upstream connect error")
                return
            if front.rate_limited:
                front.rate_limited -= 1
                self._answer(429, {"Retry-After": front.retry_after, "Content-Type": "application/json"},
                             b'{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}')
                return
            parts = urlsplit(self.path)
            if front.redirect_blobs and "/blobs/" in parts.path:
                self._answer(307, {"Location": f"{front.redirect_blobs}{parts.path}"}, b"")
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "accept")}
            upstream = requests.request(self.command, f"{front.upstream}{parts.path}", headers=headers,
                                        timeout=10, allow_redirects=False, auth=front.upstream_login)
            out = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP}
            body = upstream.content
            if front.corrupt_manifests and "/manifests/" in parts.path and body:
                body = body[:-1] + (b" " if body[-1:] != b" " else b"\n")
            if parts.path.endswith("/tags/list") and upstream.status_code == 200:
                body, link = _page(body, parse_qs(parts.query), parts.path)
                if link:
                    host = "elsewhere.example:443" if front.foreign_link else None
                    out["Link"] = f'<{"https://" + host if host else ""}{link}>; rel="next"'
            length = int(upstream.headers.get("Content-Length") or 0) if self.command == "HEAD" else len(body)
            self._answer(upstream.status_code, out, body if self.command != "HEAD" else b"", length=length)

        def _answer(self, status: int, headers: dict[str, str], body: bytes, length: int | None = None) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def _page(body: bytes, query: dict[str, list[str]], path: str) -> tuple[bytes, str | None]:
    """The spec's paging: tags in lexical order, at most `n` after `last`, and a link when more remain."""
    data = json.loads(body)
    tags = sorted(data.get("tags") or [])
    if "last" in query:
        tags = [t for t in tags if t > query["last"][0]]
    if "n" not in query:
        return json.dumps({**data, "tags": tags}).encode(), None
    n = int(query["n"][0])
    page, more = tags[:n], len(tags) > n
    link = f"{path}?n={n}&last={page[-1]}" if more and page else None
    return json.dumps({**data, "tags": page}).encode(), link
