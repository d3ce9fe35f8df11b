"""The only module that talks HTTP to the Kubernetes API (with `requests`).

Loads credentials from a kubeconfig (context, token, client certificate, CA) or from the in-cluster
service account; discovers resources (cached per group/version, forgotten on a miss so new CRDs are
found); gets, lists (with label selectors), applies (server-side apply, field manager `updater`,
optionally dry-run), creates, replaces and deletes. API failures become the named errors below,
with the API's own message and never a token.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from updater.agent import yamldocs
from updater.agent.objects import FIELD_MANAGER, Obj
from updater.errors import AuthFailed, BadInput, RemoteError, TransientRemoteError
from updater.secrets import register_secret

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


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


@dataclass(frozen=True)
class ClusterConfig:
    server: str
    token: str | None = None
    verify: bool | str = True  # False, True (system CAs) or a CA bundle path
    cert: tuple[str, str] | None = None  # client certificate and key files
    namespace: str = "default"  # the context's (or service account's) namespace
    name: str = "cluster"  # context name, for messages
    token_file: str | None = None  # re-read now and then: projected service-account tokens rotate


@dataclass(frozen=True)
class Resource:
    api_version: str
    kind: str
    plural: str
    namespaced: bool

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        base = f"/api/{self.api_version}" if "/" not in self.api_version else f"/apis/{self.api_version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        return f"{base}/{name}" if name else base


def load_config(*, kubeconfig: Path | None, context: str | None, env: Mapping[str, str],
                service_account: Path = SERVICE_ACCOUNT_DIR) -> ClusterConfig:
    """In-cluster service account when running in a pod and no kubeconfig is given; else the kubeconfig
    (`--kubeconfig`, then $KUBECONFIG, then ~/.kube/config) and its current or named context."""
    if kubeconfig is None and context is None and env.get("KUBERNETES_SERVICE_HOST"):
        if (service_account / "token").is_file():
            return _in_cluster(env, service_account)
    if kubeconfig is None:
        first = (env.get("KUBECONFIG") or "").split(os.pathsep)[0]
        kubeconfig = Path(first) if first else Path(env.get("HOME", "~")).expanduser() / ".kube" / "config"
    try:
        config = yamldocs.load(kubeconfig.read_text())
    except (OSError, yamldocs.YAMLError) as err:
        raise BadInput(f"kubeconfig {kubeconfig}: cannot read it ({err.__class__.__name__}): "
                       "pass --kubeconfig PATH or set KUBECONFIG") from err
    return _from_kubeconfig(config or {}, kubeconfig, context)


def _in_cluster(env: Mapping[str, str], directory: Path) -> ClusterConfig:
    token = (directory / "token").read_text().strip()
    register_secret(token)
    host, port = env["KUBERNETES_SERVICE_HOST"], env.get("KUBERNETES_SERVICE_PORT", "443")
    host = f"[{host}]" if ":" in host else host
    namespace_file = directory / "namespace"
    namespace = namespace_file.read_text().strip() if namespace_file.is_file() else "default"
    return ClusterConfig(f"https://{host}:{port}", token, str(directory / "ca.crt"),
                         namespace=namespace, name="in-cluster", token_file=str(directory / "token"))


def _named(items: Any, name: str, what: str, source: Path) -> dict[str, Any]:
    for item in items or []:
        if isinstance(item, dict) and item.get("name") == name:
            return item.get(what) or {}
    raise BadInput(f"kubeconfig {source}: no {what} named {name!r}: check --context and the file")


def _from_kubeconfig(config: dict[str, Any], source: Path, context: str | None) -> ClusterConfig:
    context = context or config.get("current-context")
    if not context:
        raise BadInput(f"kubeconfig {source}: no current-context: pass --context NAME")
    ctx = _named(config.get("contexts"), context, "context", source)
    cluster = _named(config.get("clusters"), ctx.get("cluster", ""), "cluster", source)
    user = _named(config.get("users"), ctx["user"], "user", source) if ctx.get("user") else {}
    if not cluster.get("server"):
        raise BadInput(f"kubeconfig {source}: cluster of context {context!r} has no server")
    verify: bool | str = not cluster.get("insecure-skip-tls-verify", False)
    if cluster.get("certificate-authority-data"):
        verify = _data_file(cluster["certificate-authority-data"], "ca.crt")
    elif cluster.get("certificate-authority"):
        verify = str(_relative(source, cluster["certificate-authority"]))
    token = user.get("token")
    token_file = str(_relative(source, user["tokenFile"])) if user.get("tokenFile") else None
    if token_file:
        token = Path(token_file).read_text().strip()
    register_secret(token)
    cert = None
    if user.get("client-certificate-data") and user.get("client-key-data"):
        cert = (_data_file(user["client-certificate-data"], "client.crt"),
                _data_file(user["client-key-data"], "client.key"))
    elif user.get("client-certificate") and user.get("client-key"):
        cert = (str(_relative(source, user["client-certificate"])), str(_relative(source, user["client-key"])))
    return ClusterConfig(cluster["server"].rstrip("/"), token, verify, cert,
                         namespace=ctx.get("namespace") or "default", name=context, token_file=token_file)


def _relative(source: Path, path: str) -> Path:
    return (source.parent / path) if not Path(path).is_absolute() else Path(path)


def _data_file(data: str, name: str) -> str:
    """requests wants files for certificates: write base64 data once, readable by us only."""
    directory = Path(tempfile.mkdtemp(prefix="updater-kube-"))
    path = directory / name
    path.write_bytes(base64.b64decode(data))
    path.chmod(0o600)
    return str(path)


class KubeClient:
    def __init__(self, config: ClusterConfig, *, timeout: float = 30.0) -> None:
        self.config = config
        self.timeout = timeout
        self.session = requests.Session()
        self.session.verify = config.verify
        self.session.cert = config.cert
        self.session.trust_env = False  # a proxy from the environment must not see cluster traffic
        if config.token:
            self.session.headers["Authorization"] = f"Bearer {config.token}"
        self.session.headers["User-Agent"] = "updater-agent"
        self._discovery: dict[str, dict[str, Resource] | None] = {}
        self._token_read = time.monotonic()
        self._watch_session: requests.Session | None = None  # see `watch`

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
            path = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
            try:
                body = self._request("GET", path)
            except KubeNotFound:
                self._discovery[api_version] = None
                return None
            resources = {}
            for item in body.get("resources", []):
                if "/" not in item.get("name", ""):  # skip subresources such as deployments/status
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
        On a session of its own: a stream holds its connection for minutes, which must not starve the
        pool the passes use. Errors are the named `KubeError`s (410 Gone: `status` 410)."""
        self._refresh_token()
        if self._watch_session is None:
            self._watch_session = requests.Session()
            self._watch_session.verify, self._watch_session.cert = self.session.verify, self.session.cert
            self._watch_session.trust_env = False
        self._watch_session.headers.update(self.session.headers)  # a rotated token too
        path = resource.path()
        query = {**params, "watch": "true", "timeoutSeconds": str(seconds)}
        try:
            with self._watch_session.get(self.config.server + path, params=query, stream=True,
                                         timeout=(self.timeout, seconds + 30)) as response:
                if response.status_code >= 400:
                    raise _error(response, f"watch {path}", self.config)
                for line in response.iter_lines():
                    if line:
                        yield json.loads(line)
        except requests.RequestException as err:
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
            self.session.headers["Authorization"] = f"Bearer {token}"

    def _request(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                 data: str | None = None, content_type: str = "application/json") -> dict[str, Any]:
        self._refresh_token()
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = content_type
        what = f"{method} {path}"
        try:
            response = self.session.request(method, self.config.server + path, params=params, data=data,
                                            headers=headers, timeout=self.timeout)
        except requests.RequestException as err:
            raise KubeUnavailable(f"Kubernetes API at {self.config.server} unreachable ({what}): "
                                  f"{err.__class__.__name__}") from err
        if response.status_code < 400:
            return response.json() if response.content else {}
        raise _error(response, what, self.config)


def _token_from(path: str) -> str | None:
    try:
        return Path(path).read_text().strip() or None
    except OSError:
        return None  # mid-rotation: keep the token we have


def _error(response: requests.Response, what: str, config: ClusterConfig) -> KubeError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    status, reason = response.status_code, body.get("reason", "") if isinstance(body, dict) else ""
    message = (body.get("message") if isinstance(body, dict) else "") or response.text[:200].strip()
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
