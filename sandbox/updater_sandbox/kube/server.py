"""`KubeApiServer`: the emulated Kubernetes API on 127.0.0.1, plus the control API tests use.

    with KubeApiServer() as kube:
        kube.write_kubeconfig(tmp_path / "kubeconfig")        # for kubectl and the agent
        kube.put({"apiVersion": "v1", "kind": "ConfigMap", ...})  # seed state directly
        kube.controller.set_mode("Deployment", "prod", "api", "hang")
        assert kube.count("list", "deployments") <= 1        # the request log

Plain HTTP (kubectl talks to `http://` servers happily); with `token` set every request needs
`Authorization: Bearer <token>` (401 otherwise) — for HTTP clients such as the agent: kubectl sends
no bearer token over plain http. Objects the control API returns are copies; the request log grows
until `clear_log()`. What is emulated and what is not is listed in the package docstring
(`updater_sandbox.kube`).
"""

from __future__ import annotations

import json
import threading
import traceback
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from updater_sandbox.git_http import read_request_body
from updater_sandbox.kube import errors, hooks, openapi, scope
from updater_sandbox.kube.api import KubeApi
from updater_sandbox.kube.controller import Controller
from updater_sandbox.kube.discovery import Discovery, ResourceType
from updater_sandbox.kube.routes import Target
from updater_sandbox.kube.store import Obj, Store
from updater_sandbox.kube.tree import clone
from updater_sandbox.kube.wire import Operation, Request, Response

_VERSION = {"major": "1", "minor": "37", "gitVersion": "v1.37.0-updater-sandbox", "gitCommit": "sandbox",
            "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.24",
            "compiler": "gc", "platform": "linux/amd64"}


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: dict[str, str]
    operation: Operation
    code: int
    user_agent: str


class KubeApiServer:
    def __init__(self, *, token: str | None = None, host: str = "127.0.0.1", port: int = 0,
                 establish_crds: bool = True, namespaces: tuple[str, ...] | None = None) -> None:
        """`establish_crds=False`: new CRDs stay un-Established (their kinds unserved) until
        `establish_crd(name)` — to test a client that must wait for them. `namespaces`: callers are
        bound by Roles in those namespaces only (403 elsewhere; see `scope`)."""
        self.token = token
        self.namespaces = namespaces
        self.store = Store()
        self.discovery = Discovery()
        self.crd_policy = hooks.CrdPolicy(establish=establish_crds)
        hooks.install(self.store, self.discovery, self.crd_policy)
        self.controller = Controller(self.store, self.discovery)
        self._stopping = threading.Event()
        self.api = KubeApi(self.store, self.discovery, stopping=self._stopping)
        self.requests: list[LoggedRequest] = []
        self._log_lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> KubeApiServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="kube-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:  # shutdown() would wait forever for a loop that never ran
            self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> KubeApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def write_kubeconfig(self, path: Path, *, context: str = "sandbox", namespace: str = "default") -> Path:
        """A kubeconfig (JSON, which kubectl and YAML loaders read) pointing at this server.

        With a token the kubeconfig carries it, but kubectl 1.37 does not send bearer tokens to a
        plain-http server: drive kubectl against a tokenless server, token auth with HTTP clients."""
        user: dict[str, Any] = {"token": self.token} if self.token else {}
        config = {
            "apiVersion": "v1", "kind": "Config", "preferences": {}, "current-context": context,
            "clusters": [{"name": context, "cluster": {"server": self.url}}],
            "users": [{"name": context, "user": user}],
            "contexts": [{"name": context, "context": {"cluster": context, "user": context, "namespace": namespace}}],
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(config, indent=2) + "\n")
        path.chmod(0o600)
        return path

    # -- control API ----------------------------------------------------------------------------
    def resource_type(self, api_version: str, kind: str) -> ResourceType:
        rt = self.discovery.by_kind(api_version, kind)
        if rt is None:
            raise KeyError(f"no resource for {api_version} {kind}")
        return rt

    def get(self, api_version: str, kind: str, name: str, namespace: str = "") -> Obj | None:
        try:
            return self.store.get(self.resource_type(api_version, kind), namespace, name)
        except errors.ApiError:
            return None

    def list(self, api_version: str, kind: str, namespace: str = "") -> list[Obj]:
        return self.store.list(self.resource_type(api_version, kind), namespace or None)[0]

    def put(self, obj: Obj, *, manager: str = "sandbox-test") -> Obj:
        """Create or replace `obj` as a client would (PUT/POST with `manager`), ignoring resourceVersion."""
        rt = self.resource_type(obj["apiVersion"], obj["kind"])
        meta = obj.get("metadata") or {}
        namespace = meta.get("namespace", "default") if rt.namespaced else ""
        target = Target(rt, namespace, meta.get("name", ""))
        request = Request("PUT", "", {"fieldManager": manager}, {})
        with self.store.lock:
            if self.store.peek(rt, namespace, target.name) is None:
                return clone(self.api.writes.create(target, clone(obj), request))
            body = clone(obj)
            body.setdefault("metadata", {}).pop("resourceVersion", None)
            return clone(self.api.writes.update(target, body, request))

    def set_status(self, api_version: str, kind: str, name: str, namespace: str, status: dict[str, Any],
                   *, manager: str = "sandbox-test") -> Obj:
        """Write `status` through the status subresource (what a controller would do)."""
        rt = self.resource_type(api_version, kind)
        target = Target(rt, namespace if rt.namespaced else "", name, "status" if "status" in rt.subresources else "")
        with self.store.lock:
            live = self.store.get(rt, target.namespace, name)
            written = self.api.writes.update(target, {**live, "status": status,
                                                      "metadata": {**live["metadata"], "resourceVersion": ""}},
                                             Request("PUT", "", {"fieldManager": manager}, {}))
            return clone(written)

    def establish_crd(self, name: str) -> None:
        hooks.establish_crd(self.store, self.discovery, name)

    def delete(self, api_version: str, kind: str, name: str, namespace: str = "") -> None:
        rt = self.resource_type(api_version, kind)
        self.api.writes.delete(Target(rt, namespace if rt.namespaced else "", name), Request("DELETE", "", {}, {}), {})

    def count(self, verb: str, resource: str = "", namespace: str | None = None) -> int:
        with self._log_lock:
            return sum(1 for r in self.requests if r.operation.verb == verb
                       and (not resource or r.operation.resource == resource)
                       and (namespace is None or r.operation.namespace == namespace))

    def counts(self) -> Counter[tuple[str, str]]:
        """(verb, resource) -> number of requests, e.g. counts()[("list", "deployments")]."""
        with self._log_lock:
            return Counter((r.operation.verb, r.operation.resource) for r in self.requests)

    def clear_log(self) -> None:
        with self._log_lock:
            self.requests.clear()

    def _log(self, entry: LoggedRequest) -> None:
        with self._log_lock:
            self.requests.append(entry)


def _handler_for(server: KubeApiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms stalls

        def log_message(self, format: str, *args: Any) -> None:  # quiet: the request log is the record
            pass

        def _serve(self) -> None:
            split = urlsplit(self.path)
            body = read_request_body(self)
            request = Request(self.command, split.path, dict(parse_qsl(split.query, keep_blank_values=True)),
                              {k.lower(): v for k, v in self.headers.items()}, body)
            try:
                response = self._dispatch(request)
            except Exception as err:  # an emulator bug: answer like an API server would, and keep serving
                traceback.print_exc()
                response = Response(500, errors.ApiError(500, "InternalError", f"emulator error: {err!r}").status())
            server._log(LoggedRequest(request.method, request.path, request.query, server.api.operation(request),
                                      response.code, request.headers.get("user-agent", "")))
            if response.stream is not None:
                self._stream(response)
            else:
                self._send(response)

        def _dispatch(self, request: Request) -> Response:
            if server.token and self.headers.get("Authorization") != f"Bearer {server.token}":
                return Response(401, errors.unauthorized().status())
            if server.namespaces is not None:
                refused = scope.forbidden_outside(request.path, request.method, server.namespaces)
                if refused is not None:
                    return Response(403, refused.status())
            if request.path == "/version":
                return Response(200, _VERSION)
            if request.path in ("/healthz", "/readyz", "/livez"):
                return Response(200, b"ok", content_type="text/plain")
            if request.path.startswith("/openapi/v3"):
                document = openapi.document_for_path(server.discovery, request.path)
                if document is not None:
                    return Response(200, document)
            return server.api.handle(request)

        def _send(self, response: Response) -> None:
            payload = response.body if isinstance(response.body, bytes) else json.dumps(response.body).encode()
            self.send_response(response.code)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Cache-Control", "no-cache, private")
            self.end_headers()
            self.wfile.write(payload)

        def _stream(self, response: Response) -> None:
            self.send_response(response.code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            assert response.stream is not None
            try:
                for chunk in response.stream:
                    self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                    self.wfile.flush()
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    return Handler
