"""The agent's HTTP endpoints: `/metrics` (Prometheus text format), `/healthz`, and `/webhook`, which
triggers a sync at once when the request is signed (GitHub `X-Hub-Signature-256`) or carries the
shared token (GitLab `X-Gitlab-Token`). Without a configured secret the webhook answers 404.

`Metrics` and the signature checks are pure; `AgentServer` is a small threaded stdlib HTTP server.
The webhook is open to anyone who can reach the port (untrusted): its body is read through
`read_body`, which holds the 5 MB limit whatever Content-Length or Transfer-Encoding claim, and
any malformed request gets 400 instead of a traceback.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol

from updater.agent.report import SYNCED, AppStatus
from updater.agent.settings import parse_listen

_MAX_BODY = 5 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB; a push event is far smaller


class _Reader(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...
    def readline(self, size: int = -1, /) -> bytes: ...


class BadRequest(ValueError):
    """The request is malformed (a length that is not a number, a broken chunk): 400."""


class TooLarge(ValueError):
    """The body is over `_MAX_BODY`, whatever the headers claimed: 413."""


def _raw(header: str) -> bytes | None:
    """The header's bytes as sent (http.server decodes them as Latin-1), None if it cannot be."""
    try:
        return header.encode("latin-1")
    except UnicodeEncodeError:
        return None


def verify_github(secret: str, body: bytes, header: str | None) -> bool:
    raw = _raw(header) if header else None
    if not raw or not raw.startswith(b"sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest().encode()
    return hmac.compare_digest(expected, raw.removeprefix(b"sha256="))


def verify_gitlab(secret: str, header: str | None) -> bool:
    raw = _raw(header) if header is not None else None
    return raw is not None and hmac.compare_digest(secret.encode(), raw)


def read_body(rfile: _Reader, headers: Mapping[str, str], *, limit: int = _MAX_BODY) -> bytes:
    """The request body, never more than `limit` bytes read, whatever the headers say: a
    Content-Length that is not a plain decimal number (`-1`, `abc`, two values) or comes with
    Transfer-Encoding is `BadRequest`; a chunked body is read chunk by chunk up to the limit;
    no length and no chunking means no body (RFC 9112 6.3)."""
    length_header = headers.get("content-length")
    encoding = (headers.get("transfer-encoding") or "").strip().lower()
    if encoding and length_header is not None:
        raise BadRequest("both Content-Length and Transfer-Encoding")  # the smuggling shape
    if encoding:
        if encoding != "chunked":
            raise BadRequest(f"unsupported Transfer-Encoding {encoding!r}")
        return _read_chunked(rfile, limit)
    if length_header is None:
        return b""
    text = length_header.strip()
    if not (text.isascii() and text.isdigit()):
        raise BadRequest("Content-Length is not a number")
    length = int(text)
    if length > limit:
        raise TooLarge(f"{length} bytes")
    body = rfile.read(length)
    if len(body) != length:
        raise BadRequest("body shorter than Content-Length")
    return body


def _read_chunked(rfile: _Reader, limit: int) -> bytes:
    body = bytearray()
    while True:
        line = rfile.readline(1026)  # a size line: hex digits and maybe extensions, never long
        if not line.endswith(b"\n"):
            raise BadRequest("broken chunk size line")
        size_text = line.split(b";", 1)[0].strip()
        if not size_text or any(c not in b"0123456789abcdefABCDEF" for c in size_text) or len(size_text) > 8:
            raise BadRequest("chunk size is not a hex number")
        size = int(size_text, 16)
        if size == 0:
            while rfile.readline(1026).strip():  # trailers, up to the empty line
                pass
            return bytes(body)
        if len(body) + size > limit:
            raise TooLarge(f"over {limit} bytes")
        chunk = rfile.read(size)
        if len(chunk) != size or rfile.readline(3).strip():
            raise BadRequest("broken chunk")
        body.extend(chunk)


def _number(value: float) -> str:
    """Integers without a decimal point; other values in full (`:g` would round timestamps)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class Metrics:
    """The last status of each app, and counters since start; rendered as Prometheus text."""

    def __init__(self, cluster: str) -> None:
        self.cluster = cluster
        self._lock = threading.Lock()
        self._last: dict[str, AppStatus] = {}
        self._last_time: dict[str, float] = {}
        self._syncs: dict[tuple[str, str], int] = {}
        self._applied: dict[str, int] = {}
        self._pruned: dict[str, int] = {}

    def record(self, status: AppStatus, *, now: float | None = None) -> None:
        with self._lock:
            self._last[status.app] = status
            self._last_time[status.app] = time.time() if now is None else now
            outcome = "error" if status.errors else "ok"
            self._syncs[(status.app, outcome)] = self._syncs.get((status.app, outcome), 0) + 1
            self._applied[status.app] = self._applied.get(status.app, 0) + len(status.applied)
            self._pruned[status.app] = self._pruned.get(status.app, 0) + len(status.pruned)

    def render(self) -> str:
        with self._lock:
            lines: list[str] = []

            def family(name: str, kind: str, text: str, samples: list[tuple[str, float]]) -> None:
                lines.extend([f"# HELP {name} {text}", f"# TYPE {name} {kind}"])
                lines.extend(f"{name}{{{labels}}} {_number(value)}" for labels, value in samples)

            apps = sorted(self._last)
            label = {app: f'app="{app}",cluster="{self.cluster}"' for app in apps}
            family("updater_agent_syncs_total", "counter", "Syncs run, by outcome.",
                   [(f'{label[a]},outcome="{o}"', n) for (a, o), n in sorted(self._syncs.items())])
            family("updater_agent_applied_total", "counter", "Objects applied.",
                   [(label[a], self._applied[a]) for a in apps])
            family("updater_agent_pruned_total", "counter", "Objects pruned.",
                   [(label[a], self._pruned[a]) for a in apps])
            family("updater_agent_synced", "gauge", "1 when the cluster matches the repository.",
                   [(label[a], 1.0 if self._last[a].sync == SYNCED and not self._last[a].errors else 0.0)
                    for a in apps])
            family("updater_agent_health", "gauge", "1 for the app's current health state.",
                   [(f'{label[a]},state="{s}"', 1.0 if self._last[a].health == s else 0.0)
                    for a in apps for s in ("Healthy", "Progressing", "Degraded")])
            family("updater_agent_drifted_objects", "gauge", "Objects that differ from git.",
                   [(label[a], len(self._last[a].drifted)) for a in apps])
            family("updater_agent_objects", "gauge", "Objects the app declares.",
                   [(label[a], self._last[a].objects) for a in apps])
            family("updater_agent_sync_duration_seconds", "gauge", "Duration of the last sync.",
                   [(label[a], self._last[a].duration) for a in apps])
            family("updater_agent_last_sync_timestamp_seconds", "gauge", "When the last sync ended.",
                   [(label[a], self._last_time[a]) for a in apps])
            return "\n".join(lines) + "\n"


class AgentServer:
    def __init__(self, listen: str, metrics: Metrics, *, on_webhook: Callable[[], None],
                 webhook_secret: str | None, healthy: Callable[[], bool] = lambda: True) -> None:
        host, port = parse_listen(listen)
        self.metrics = metrics
        self.on_webhook = on_webhook
        self.webhook_secret = webhook_secret
        self.healthy = healthy
        self._httpd = ThreadingHTTPServer((host, port), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="agent-http", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"

    def start(self) -> AgentServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def accept_webhook(self, body: bytes, headers: dict[str, str]) -> int:
        """The HTTP status for a webhook delivery; triggers a sync when it is authentic."""
        if not self.webhook_secret:
            return 404
        github = headers.get("x-hub-signature-256")
        gitlab = headers.get("x-gitlab-token")
        if github is not None:
            valid = verify_github(self.webhook_secret, body, github)
        else:
            valid = verify_gitlab(self.webhook_secret, gitlab)
        if not valid:
            return 401
        self.on_webhook()
        return 202

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 10  # seconds per read: a client that stops sending does not hold a thread

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _send(self, status: int, body: str, content_type: str = "text/plain; charset=utf-8") -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path == "/metrics":
                    self._send(200, server.metrics.render(), "text/plain; version=0.0.4; charset=utf-8")
                elif self.path == "/healthz":
                    ok = server.healthy()
                    self._send(200 if ok else 503, "ok\n" if ok else "sync loop stalled\n")
                else:
                    self._send(404, "not found\n")

            def do_POST(self) -> None:
                if self.path != "/webhook":
                    self.close_connection = True  # its body, if any, is never read
                    self._send(404, "not found\n")
                    return
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    body = read_body(self.rfile, headers)
                except (BadRequest, TooLarge) as err:
                    self.close_connection = True  # the rest of the body is unread: end the connection
                    status = 413 if isinstance(err, TooLarge) else 400
                    self._send(status, f"{'body too large' if status == 413 else 'bad request'}: {err}\n")
                    return
                status = server.accept_webhook(body, headers)
                self._send(status, {202: "sync triggered\n", 401: "bad signature or token\n",
                                    404: "webhook disabled\n"}[status])

        return Handler
