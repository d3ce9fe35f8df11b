"""Cluster credentials: from a kubeconfig (context, token, client certificate, CA) or the in-cluster
service account, into a frozen `ClusterConfig`.

A kubeconfig is the operator's file, but it may still be the wrong file: anything that is not a
kubeconfig is a `BadInput` naming the file and the key, never a traceback. Certificate and key
data (`*-data` fields) go to files, because requests wants paths: they live in one private
directory (0700, files 0600) that is removed when the process exits, normally or on a signal
the command turns into an exit (see `remove_key_material`). Reads files; no network.
"""

from __future__ import annotations

import atexit
import base64
import binascii
import os
import shutil
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from updater.agent import yamldocs
from updater.errors import BadInput
from updater.secrets import register_secret

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


@dataclass(frozen=True)
class ClusterConfig:
    server: str
    token: str | None = None
    verify: bool | str = True  # False, True (system CAs) or a CA bundle path
    cert: tuple[str, str] | None = None  # client certificate and key files
    namespace: str = "default"  # the context's (or service account's) namespace
    name: str = "cluster"  # context name, for messages
    token_file: str | None = None  # re-read now and then: projected service-account tokens rotate


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
        config = yamldocs.load(kubeconfig.read_bytes())
    except (OSError, yamldocs.YAMLError) as err:
        raise BadInput(f"kubeconfig {kubeconfig}: cannot read it ({err.__class__.__name__}): "
                       "pass --kubeconfig PATH or set KUBECONFIG") from err
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise BadInput(f"kubeconfig {kubeconfig}: not a kubeconfig (expected a mapping with clusters, "
                       "contexts and users): pass --kubeconfig PATH")
    return _from_kubeconfig(config, kubeconfig, context)


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
    if items is not None and not isinstance(items, list):
        raise BadInput(f"kubeconfig {source}: {what}s must be a list: is this a kubeconfig?")
    for item in items or []:
        if isinstance(item, dict) and item.get("name") == name:
            found = item.get(what) or {}
            if not isinstance(found, dict):
                raise BadInput(f"kubeconfig {source}: {what} {name!r} must be a mapping")
            return found
    raise BadInput(f"kubeconfig {source}: no {what} named {name!r}: check --context and the file")


def _text(section: Mapping[str, Any], key: str, source: Path) -> str | None:
    value = section.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadInput(f"kubeconfig {source}: {key} must be a string, not {type(value).__name__}")
    return value


def _from_kubeconfig(config: dict[str, Any], source: Path, context: str | None) -> ClusterConfig:
    context = context or _text(config, "current-context", source)
    if not context:
        raise BadInput(f"kubeconfig {source}: no current-context: pass --context NAME")
    ctx = _named(config.get("contexts"), context, "context", source)
    cluster = _named(config.get("clusters"), str(ctx.get("cluster", "")), "cluster", source)
    user = _named(config.get("users"), str(ctx["user"]), "user", source) if ctx.get("user") else {}
    server = _text(cluster, "server", source)
    if not server:
        raise BadInput(f"kubeconfig {source}: cluster of context {context!r} has no server")
    verify: bool | str = not cluster.get("insecure-skip-tls-verify", False)
    if ca_data := _text(cluster, "certificate-authority-data", source):
        verify = _data_file(ca_data, "ca.crt", source)
    elif ca := _text(cluster, "certificate-authority", source):
        verify = str(_relative(source, ca))
    token = _text(user, "token", source)
    token_file = str(_relative(source, name)) if (name := _text(user, "tokenFile", source)) else None
    if token_file:
        try:
            token = Path(token_file).read_text().strip()
        except OSError as err:
            raise BadInput(f"kubeconfig {source}: tokenFile {token_file}: cannot read it ({err.strerror})") from err
    register_secret(token)
    cert = None
    cert_data, key_data = _text(user, "client-certificate-data", source), _text(user, "client-key-data", source)
    cert_path, key_path = _text(user, "client-certificate", source), _text(user, "client-key", source)
    if cert_data and key_data:
        register_secret(key_data)
        cert = (_data_file(cert_data, "client.crt", source), _data_file(key_data, "client.key", source))
    elif cert_path and key_path:
        cert = (str(_relative(source, cert_path)), str(_relative(source, key_path)))
    namespace = _text(ctx, "namespace", source) or "default"
    return ClusterConfig(server.rstrip("/"), token, verify, cert, namespace=namespace, name=context,
                         token_file=token_file)


def _relative(source: Path, path: str) -> Path:
    return (source.parent / path) if not Path(path).is_absolute() else Path(path)


# --- key material: one private directory per process, removed at exit ----------------------
_lock = threading.Lock()
_key_dir: Path | None = None


def key_directory() -> Path:
    """This process's private directory for certificate and key files (created 0700 on first use)."""
    global _key_dir
    with _lock:
        if _key_dir is None or not _key_dir.is_dir():
            _key_dir = Path(tempfile.mkdtemp(prefix="updater-kube-"))  # mkdtemp: mode 0700
            atexit.register(remove_key_material)
        return _key_dir


def remove_key_material() -> None:
    """Delete the key directory (idempotent): at exit, and from the command on SIGTERM/SIGHUP."""
    global _key_dir
    with _lock:
        if _key_dir is not None:
            shutil.rmtree(_key_dir, ignore_errors=True)
            _key_dir = None


def _data_file(data: str, name: str, source: Path) -> str:
    """requests wants files for certificates: write the base64 data once, readable by us only."""
    try:
        raw = base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError) as err:
        raise BadInput(f"kubeconfig {source}: {name} data is not base64: is this a kubeconfig?") from err
    path = key_directory() / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # never readable by others, not even briefly
    with os.fdopen(fd, "wb") as file:
        file.write(raw)
    return str(path)
