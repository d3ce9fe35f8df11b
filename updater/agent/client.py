"""The only module that talks HTTP to the Kubernetes API (with `urllib3`, one keep-alive pool).

Takes its credentials from `kubeconfig.load_config` (re-exported here); discovers resources (cached per group/version, forgotten on a miss so new CRDs are
found); gets, lists (with label selectors), applies (server-side apply, field manager `updater`,
optionally dry-run), creates, replaces and deletes. API failures become the named errors below,
with the API's own message and never a token. Every name, namespace, resource and version put
into a path is checked against the Kubernetes naming rules and quoted first (`names`), so a name
from the repository can never become another URL (`KubeBadName`, nothing sent).

urllib3 directly rather than `requests`: a first apply is thousands of small requests, and
`requests`' per-request session merging cost about twice urllib3's CPU per apply (issue 14's
benchmark); its connections are kept alive and shared by the agent's worker threads.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from urllib.parse import urlencode, urlsplit
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import certifi
import urllib3

from updater.agent import names
from updater.agent.kubeconfig import SERVICE_ACCOUNT_DIR, ClusterConfig, load_config
from updater.agent.objects import FIELD_MANAGER, Obj
from updater.errors import AuthFailed, RemoteError, TransientRemoteError
from updater.secrets import register_secret

__all__ = ["SERVICE_ACCOUNT_DIR", "ClusterConfig", "KubeBadName", "KubeClient", "KubeConflict", "KubeError",
           "KubeForbidden", "KubeInvalid", "KubeNotFound", "KubeUnavailable", "Resource", "load_config"]


class KubeError(RemoteError):
    """The API answered with an error status; `status` and `reason` come from it."""

    def __init__(self, message: str, *, status: int = 0, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class KubeUnavailable(KubeError, TransientRemoteError):
    """Connection refused, timeout, 5xx or 429: worth retrying on the next interval."""


class KubeNotFound(KubeError):
    pass


class KubeConflict(KubeError):
    """409: a stale resourceVersion, an existing name, or a field owned by another manager."""


class KubeInvalid(KubeError):
    """422: the object is rejected; `immutable` when it tries to change an immutable field."""

    @property
    def immutable(self) -> bool:
        return "immutable" in str(self).lower()


class KubeForbidden(KubeError, AuthFailed):
    exit_code = AuthFailed.exit_code


class KubeBadName(KubeError):
    """A name, namespace or resource segment breaks the Kubernetes naming rules: nothing was sent."""


@dataclass(frozen=True)
class Resource:
    api_version: str
    kind: str
    plural: str
    namespaced: bool

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        """The API path; every segment checked (`names`) and quoted, else `KubeBadName`."""
        try:
            base = _version_path(self.api_version)
            if self.namespaced and namespace:
                base += f"/namespaces/{names.segment(names.check_label(namespace, what='namespace'))}"
            elif namespace and not self.namespaced:
                raise names.InvalidName(f"{self.kind} is cluster-scoped: it has no namespace ({namespace!r})")
            base += f"/{names.segment(names.check_label(self.plural, what='resource'))}"
            if name is not None:
                base += f"/{names.segment(names.check_name(self.kind, name))}"
        except names.InvalidName as err:
            raise KubeBadName(f"{self.kind} {namespace + '/' if namespace else ''}{name or ''}: {err}: "
                              "nothing was sent to the API") from None
        return base


def _version_path(api_version: str) -> str:
    names.check_api_version(api_version)
    return f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"


class KubeClient:
    def __init__(self, config: ClusterConfig, *, timeout: float = 30.0, connections: int = 16) -> None:
        self.config = config
        self.timeout = timeout
        self.headers = {"User-Agent": "updater-agent"}  # sent with every request
        if config.token:
            self.headers["Authorization"] = f"Bearer {config.token}"
        # no proxy from the environment (urllib3 reads none): it must not see cluster traffic.
        # `connections` kept alive: at least the agent's worker threads, so none waits for one
        # One pool for the one server (a PoolManager would parse and route every URL: ~20% more CPU).
        split = urlsplit(config.server)
        tls: dict[str, Any] = {}
        if split.scheme == "https":
            verify = config.verify
            tls = {"cert_reqs": "CERT_REQUIRED" if verify else "CERT_NONE",
                   "ca_certs": verify if isinstance(verify, str) else certifi.where() if verify else None,
                   "cert_file": config.cert[0] if config.cert else None,
                   "key_file": config.cert[1] if config.cert else None}
        self._tls = tls
        self._http = urllib3.connection_from_url(config.server, maxsize=connections, retries=False, **tls)
        self._prefix = split.path.rstrip("/")  # a server behind a proxy path, e.g. https://host/k8s/clusters/c1
        self._timeout = urllib3.Timeout(connect=timeout, read=timeout)
        self._discovery: dict[str, dict[str, Resource] | None] = {}
        self._token_read = time.monotonic()
        self._watch_http: urllib3.HTTPConnectionPool | None = None  # see `watch`

    # --- discovery -------------------------------------------------------------------------
    def resource(self, api_version: str, kind: str) -> Resource | None:
        """The resource serving `kind` in `api_version`, or None when the API does not know it."""
        found = self._group_version(api_version)
        if found is None or kind not in found:
            self._discovery.pop(api_version, None)  # maybe a CRD just got established: ask again
            found = self._group_version(api_version)
        return (found or {}).get(kind)

    def forget_discovery(self) -> None:
        self._discovery.clear()

    def _group_version(self, api_version: str) -> dict[str, Resource] | None:
        if api_version not in self._discovery:
            try:
                path = _version_path(api_version)
            except names.InvalidName as err:
                raise KubeBadName(f"{err}: nothing was sent to the API") from None
            try:
                body = self._request("GET", path)
            except KubeNotFound:
                self._discovery[api_version] = None
                return None
            resources = {}
            for item in body.get("resources", []):
                if "/" not in item.get("name", "") and isinstance(item.get("kind"), str):  # skip subresources such as deployments/status
                    resources[item["kind"]] = Resource(api_version, item["kind"], item["name"], item["namespaced"])
            self._discovery[api_version] = resources
        return self._discovery[api_version]

    # --- objects ---------------------------------------------------------------------------
    def get(self, resource: Resource, name: str, *, namespace: str | None = None) -> Obj | None:
        try:
            return self._request("GET", resource.path(namespace, name))
        except KubeNotFound:
            return None

    def list(self, resource: Resource, *, namespace: str | None = None, label_selector: str | None = None) -> list[Obj]:
        """All objects (one request: no `limit`), each with apiVersion and kind filled in."""
        params = {"labelSelector": label_selector} if label_selector else None
        body = self._request("GET", resource.path(namespace), params=params)
        items = body.get("items") or []
        for item in items:
            item.setdefault("apiVersion", resource.api_version)
            item.setdefault("kind", resource.kind)
        return items

    def apply(self, resource: Resource, obj: Obj, *, dry_run: bool = False, force: bool = True) -> Obj:
        """Server-side apply as field manager `updater` (create or update; the repository wins
        conflicts with other managers when `force`)."""
        meta = obj["metadata"]
        params = {"fieldManager": FIELD_MANAGER, "force": "true" if force else "false"}
        if dry_run:
            params["dryRun"] = "All"
        return self._request("PATCH", resource.path(meta.get("namespace"), meta["name"]), params=params,
                             data=json.dumps(obj), content_type="application/apply-patch+yaml")

    def create(self, resource: Resource, obj: Obj) -> Obj:
        return self._request("POST", resource.path(obj["metadata"].get("namespace")), data=json.dumps(obj))

    def replace(self, resource: Resource, obj: Obj) -> Obj:
        """PUT, guarded by the object's resourceVersion (409 `KubeConflict` when it is stale)."""
        meta = obj["metadata"]
        return self._request("PUT", resource.path(meta.get("namespace"), meta["name"]), data=json.dumps(obj))

    def delete(self, resource: Resource, name: str, *, namespace: str | None = None) -> bool:
        """True when deleted, False when it was already gone."""
        body = json.dumps({"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"})
        try:
            self._request("DELETE", resource.path(namespace, name), data=body)
        except KubeNotFound:
            return False
        return True

    # --- watches (updater.agent.watch) ----------------------------------------------------
    def list_version(self, resource: Resource, *, label_selector: str) -> str:
        """The resourceVersion of a (one-item) list: where a watch of the same selection starts."""
        body = self._request("GET", resource.path(), params={"labelSelector": label_selector, "limit": "1"})
        return str((body.get("metadata") or {}).get("resourceVersion") or "")

    def watch(self, resource: Resource, *, params: Mapping[str, str], seconds: int) -> Iterator[dict[str, Any]]:
        """The events of a watch (`?watch=true` plus `params`), parsed, until the server ends the stream.
        On a pool of its own: a stream holds its connection for minutes, which must not starve the
        pool the passes use. Errors are the named `KubeError`s (410 Gone: `status` 410)."""
        self._refresh_token()
        if self._watch_http is None:
            self._watch_http = urllib3.connection_from_url(self.config.server, maxsize=8, retries=False,
                                                           **self._tls)
        path = resource.path()
        query = {**params, "watch": "true", "timeoutSeconds": str(seconds)}
        url = self._prefix + path + f"?{urlencode(query)}"
        headers = {**self.headers, "Accept": "application/json"}  # a rotated token too
        try:
            response = self._watch_http.urlopen("GET", url, headers=headers, retries=False, redirect=False,
                                                preload_content=False,
                                                timeout=urllib3.Timeout(connect=self.timeout, read=seconds + 30))
            try:
                if response.status >= 400:
                    response.read()
                    raise _error(response, f"watch {path}", self.config)
                pending = b""
                for chunk in response.stream(64 * 1024):
                    pending += chunk
                    *lines, pending = pending.split(b"\n")
                    for line in lines:
                        if line.strip():
                            yield json.loads(line)
                if pending.strip():
                    yield json.loads(pending)
            finally:
                response.release_conn()
        except urllib3.exceptions.HTTPError as err:
            raise KubeUnavailable(f"Kubernetes API at {self.config.server} unreachable (watch {path}): "
                                  f"{err.__class__.__name__}") from err

    # --- transport -------------------------------------------------------------------------
    def _refresh_token(self, every: float = 60.0) -> None:
        """Kubelet rewrites a projected token before it expires (about hourly): pick the new one up."""
        if not self.config.token_file or time.monotonic() - self._token_read < every:
            return
        self._token_read = time.monotonic()
        token = _token_from(self.config.token_file)
        if token:
            register_secret(token)
            self.headers["Authorization"] = f"Bearer {token}"

    def _request(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                 data: str | None = None, content_type: str = "application/json") -> dict[str, Any]:
        self._refresh_token()
        headers = {**self.headers, "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = content_type
        what = f"{method} {path}"
        url = self._prefix + path + (f"?{urlencode(params)}" if params else "")
        try:
            response = self._http.urlopen(method, url, body=data.encode() if data is not None else None,
                                          headers=headers, timeout=self._timeout, retries=False, redirect=False)
        except urllib3.exceptions.HTTPError as err:
            raise KubeUnavailable(f"Kubernetes API at {self.config.server} unreachable ({what}): "
                                  f"{err.__class__.__name__}") from err
        if response.status < 400:
            return json.loads(response.data) if response.data else {}
        raise _error(response, what, self.config)


def _token_from(path: str) -> str | None:
    try:
        return Path(path).read_text().strip() or None
    except OSError:
        return None  # mid-rotation: keep the token we have


def _error(response: urllib3.BaseHTTPResponse, what: str, config: ClusterConfig) -> KubeError:
    try:
        body = json.loads(response.data)
    except ValueError:
        body = {}
    status, reason = response.status, body.get("reason", "") if isinstance(body, dict) else ""
    raw = response.data[:200].decode("utf-8", "replace").strip()
    message = (body.get("message") if isinstance(body, dict) else "") or raw
    text = f"{what}: {status} {reason or response.reason}: {message}"
    if status in (401, 403):
        return KubeForbidden(f"{text} (check the credentials of {config.name} and the agent's RBAC)",
                             status=status, reason=reason)
    if status == 404:
        return KubeNotFound(text, status=status, reason=reason)
    if status == 409:
        return KubeConflict(text, status=status, reason=reason)
    if status in (400, 422):
        return KubeInvalid(text, status=status, reason=reason)
    if status == 429 or status >= 500:
        return KubeUnavailable(text, status=status, reason=reason)
    return KubeError(text, status=status, reason=reason)
