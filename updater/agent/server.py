"""The agent's HTTP endpoints: `/metrics` (Prometheus text format), `/healthz`, and `/webhook`, which
triggers a sync at once when the request is signed (GitHub `X-Hub-Signature-256`) or carries the
shared token (GitLab `X-Gitlab-Token`). Without a configured secret the webhook answers 404.

`Metrics` and the signature checks are pure; `AgentServer` is a small threaded stdlib HTTP server.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from updater.agent.report import SYNCED, AppStatus

_MAX_BODY = 5 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB; a push event is far smaller


def verify_github(secret: str, body: bytes, header: str | None) -> bool:
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256="))


def verify_gitlab(secret: str, header: str | None) -> bool:
    return header is not None and hmac.compare_digest(secret.encode(), header.encode())


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
        host, _, port = listen.rpartition(":")
        self.metrics = metrics
        self.on_webhook = on_webhook
        self.webhook_secret = webhook_secret
        self.healthy = healthy
        self._httpd = ThreadingHTTPServer((host or "127.0.0.1", int(port)), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="agent-http", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

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
                length = int(self.headers.get("Content-Length") or 0)
                if self.path != "/webhook" or length > _MAX_BODY:
                    self._send(404 if self.path != "/webhook" else 413, "no\n")
                    return
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status = server.accept_webhook(body, headers)
                self._send(status, {202: "sync triggered\n", 401: "bad signature or token\n",
                                    404: "webhook disabled\n"}[status])

        return Handler
