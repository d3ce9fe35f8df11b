"""Smart-HTTP git serving: hand a request to `git http-backend` (CGI) and stream its answer back.

`GitBackend.serve()` is called by an HTTP handler that has already decided the request is for git
(the local forge routes `/<owner>/<repo>.git/...` here). `GitHttpServer` is the standalone server
used by tests that need only git: token auth (401 with a Basic challenge, as git expects, then 403
for a token without write access), and injectable faults for pushes and fetches.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

# Partial clone and shallow fetch of arbitrary commits need these on the serving side.
_SERVER_GIT_CONFIG = {
    "uploadpack.allowFilter": "true",
    "uploadpack.allowAnySHA1InWant": "true",
    "http.receivepack": "true",
    "receive.advertisePushOptions": "true",
}


def read_request_body(handler: BaseHTTPRequestHandler) -> bytes:
    """The whole request body, whether sent with Content-Length or chunked (git chunks big pushes)."""
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks: list[bytes] = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


@dataclass
class GitBackend:
    """Runs `git http-backend` over the bare repositories under `root`."""

    root: Path
    git: str = field(default_factory=lambda: shutil.which("git") or "git")

    def serve(self, handler: BaseHTTPRequestHandler, path: str, query: str, *, user: str, body: bytes) -> int:
        """Answer one git request through `git http-backend`; the HTTP status sent."""
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
            "GIT_PROJECT_ROOT": str(self.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "REQUEST_METHOD": handler.command,
            "CONTENT_TYPE": handler.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": user or "anonymous",
            "REMOTE_ADDR": handler.client_address[0],
            "GIT_CONFIG_COUNT": str(len(_SERVER_GIT_CONFIG)),
        }
        if encoding := handler.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = encoding
        if protocol := handler.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = protocol
        for index, (key, value) in enumerate(_SERVER_GIT_CONFIG.items()):
            env[f"GIT_CONFIG_KEY_{index}"], env[f"GIT_CONFIG_VALUE_{index}"] = key, value
        done = subprocess.run([self.git, "http-backend"], input=body, env=env, capture_output=True, timeout=300)
        head, _, payload = done.stdout.partition(b"\r\n\r\n")
        if not _:
            head, _, payload = done.stdout.partition(b"\n\n")
        status, headers = 200, []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers.append((name.strip(), value.strip()))
        if done.returncode != 0 and not head:
            status, payload = 500, done.stderr
        handler.send_response(status)
        for name, value in headers:
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)
        return status


def basic_auth_password(handler: BaseHTTPRequestHandler) -> tuple[str, str] | None:
    """(user, password) from an `Authorization: Basic` header, or None."""
    header = handler.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(encoded).decode().partition(":")
    except ValueError:
        return None
    return user, password


# The smart-HTTP endpoints under a repository: git asks for these whether or not the URL ends in .git.
_SMART_HTTP = ("/info/refs", "/git-upload-pack", "/git-receive-pack")


def repository_path(path: str) -> str | None:
    """`path` with the repository part ending in `.git` (where the bare repositories live), or None when
    `path` is not a git request. Real forges accept clone URLs without `.git`; so does this one."""
    if ".git/" in path or path.endswith(".git"):
        return path
    for endpoint in _SMART_HTTP:
        if path.endswith(endpoint) and len(path) > len(endpoint):
            return path[: -len(endpoint)].rstrip("/") + ".git" + endpoint
    return None


def git_service(path: str, query: str) -> str:
    """'receive-pack' for pushes, 'upload-pack' for fetches (from the URL, as git's own server does)."""
    if path.endswith("/git-receive-pack") or "service=git-receive-pack" in query:
        return "receive-pack"
    return "upload-pack"


# A fault decides, for one request, whether to misbehave: it gets (service, handler) and returns
# True when it handled (broke) the request itself.
Fault = Callable[[str, BaseHTTPRequestHandler], bool]


def http_error(status: int, message: str = "") -> Fault:
    def fault(service: str, handler: BaseHTTPRequestHandler) -> bool:
        body = (message or f"injected {status}").encode()
        handler.send_response(status)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
        return True

    return fault


def drop_connection() -> Fault:
    def fault(service: str, handler: BaseHTTPRequestHandler) -> bool:
        handler.close_connection = True
        handler.connection.shutdown(2)
        return True

    return fault


def delay(seconds: float) -> Fault:
    def fault(service: str, handler: BaseHTTPRequestHandler) -> bool:
        time.sleep(seconds)
        return False

    return fault


class GitHttpServer:
    """git over HTTP on 127.0.0.1 for bare repositories under `root`, checking a token when set.

    Any user name is accepted with the right token as password (like GitHub's `x-access-token`).
    `read_only_tokens` may fetch but get 403 on push. `faults[service]` is a list consumed one
    fault per request of that service ('receive-pack' or 'upload-pack').
    """

    def __init__(self, root: Path, *, token: str | None = None, read_only_tokens: tuple[str, ...] = ()) -> None:
        self.root = Path(root)
        self.token = token
        self.read_only_tokens = read_only_tokens
        self.faults: dict[str, list[Fault]] = {"receive-pack": [], "upload-pack": []}
        self.requests: list[tuple[str, str, int | None]] = []  # (method, path, user-visible status)
        self._lock = threading.Lock()
        self._backend = GitBackend(self.root)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="git-http", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def repo_url(self, name: str) -> str:
        return f"{self.url}/{name}"

    def start(self) -> GitHttpServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> GitHttpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _take_fault(self, service: str) -> Fault | None:
        with self._lock:
            queue = self.faults.get(service) or []
            return queue.pop(0) if queue else None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet: tests read .requests
                pass

            def do_GET(self) -> None:
                self._git()

            def do_POST(self) -> None:
                self._git()

            def _git(self) -> None:
                parts = urlsplit(self.path)
                service = git_service(parts.path, parts.query)
                body = read_request_body(self) if self.command == "POST" else b""
                user = server._authorise(self, service)
                if user is None:
                    return
                fault = server._take_fault(service)
                if fault and fault(service, self):
                    server.requests.append((self.command, parts.path, None))
                    return
                server.requests.append((self.command, parts.path, 200))
                server._backend.serve(self, parts.path, parts.query, user=user, body=body)

        return Handler

    def _authorise(self, handler: BaseHTTPRequestHandler, service: str) -> str | None:
        """The user name when allowed; otherwise sends 401/403 and returns None."""
        if self.token is None:
            return "anonymous"
        credentials = basic_auth_password(handler)
        if credentials is None or credentials[1] not in (self.token, *self.read_only_tokens):
            body = b"Authentication required"
            handler.send_response(401)
            handler.send_header("WWW-Authenticate", 'Basic realm="updater-sandbox"')
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
            return None
        if service == "receive-pack" and credentials[1] != self.token:
            body = b"Permission to push denied: the token is read-only"
            handler.send_response(403)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
            return None
        return credentials[0] or "token"
