"""The agent's settings, built once from flags and an optional `agent.yml`, then passed down frozen.

Precedence: flags, then the config file, then the defaults below (each with its reason). Nothing
else in the agent reads flags, files or `os.environ`. Pure apart from reading the config file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from updater.agent import yamldocs
from updater.agent.cluster_settings import ClusterSettings, app_clusters, check_targets, clusters_from_mapping
from updater.agent.sops import NO_IDENTITIES, Identities
from updater.durations import parse_seconds
from updater.errors import BadInput
from updater.policy import Policy, policy_from_mapping

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")  # a label value and part of a ConfigMap name


@dataclass(frozen=True)
class AppSettings:
    name: str
    repo: str
    branch: str = "main"
    path: str = "."
    namespace: str | None = None  # for namespaced objects that name none (None: the context's)
    prune: bool = False  # deleting is opt-in: a wrong path must not empty a cluster
    self_heal: bool = False  # drift is always reported; undone only when asked
    interval: float = 30.0  # seconds between polls; a webhook syncs at once
    allowed_namespaces: tuple[str, ...] = ()  # empty: any namespace
    # cluster-scoped kinds (`Kind` or `Kind.group`) a confined app may apply; empty: none when
    # allowed_namespaces is set (a ClusterRoleBinding would undo the confinement), any otherwise
    allowed_cluster_kinds: tuple[str, ...] = ()
    kustomize_remote: bool = False  # kustomize may fetch remote resources (git, http): opt-in
    allow_empty_prune: bool = False  # an empty render is more often a mistake than a wish
    token_env: str | None = None  # variable holding the git token (None: anonymous)
    clusters: tuple[str, ...] = ()  # names under the config's `clusters:` (empty: the agent's own cluster)


@dataclass(frozen=True)
class StatusSettings:
    """Where to post "deployed to <cluster>: healthy" commit statuses (off when provider is None)."""

    provider: str | None = None  # "github" or "gitlab"
    api_url: str | None = None  # e.g. https://api.github.com, https://gitlab.com/api/v4
    token_env: str | None = None
    # or a GitHub App (needs statuses: write): its id and private key, from a file (a mounted Secret)
    # or a variable; installation tokens per app repository, refreshed before they expire
    app_id: str | None = None
    app_private_key_file: str | None = None
    app_private_key_env: str | None = None

    @property
    def as_app(self) -> bool:
        return bool(self.app_id or self.app_private_key_file or self.app_private_key_env)


@dataclass(frozen=True)
class AgentSettings:
    apps: tuple[AppSettings, ...]
    cluster: str = "default"  # the name in commit statuses, events and metrics
    namespace: str = "updater-system"  # where inventories, events and the Lease live
    kubeconfig: Path | None = None
    context: str | None = None
    listen: str | None = None  # host:port for /metrics, /healthz, /webhook (None: no server)
    once: bool = False
    dry_run: bool = False
    cache_dir: Path = Path(".updater-agent-cache")  # the command passes ~/.cache/updater/agent
    leader_elect: bool = False  # only needed when more than one replica may run
    identity: str = "updater-agent"
    lease_seconds: float = 15.0  # a dead leader is replaced after this long
    webhook_secret_env: str | None = None
    status: StatusSettings = field(default_factory=StatusSettings)
    age_key_files: tuple[Path, ...] = ()  # sops: age identities, e.g. a Secret mounted as a file
    # the identities themselves, loaded by the command from the files and SOPS_AGE_KEY(_FILE); never printed
    sops_identities: Identities = field(default=NO_IDENTITIES, repr=False, compare=False)
    # the cluster operator's rules, enforced on every rendered object (updater.agent.policy_gate)
    policy: Policy = field(default_factory=Policy)
    policy_configmap: str | None = None  # also enforce this ConfigMap's `policy.yaml` (agent's namespace)
    clusters: tuple[ClusterSettings, ...] = ()  # target clusters by name (updater.agent.clusters)
    wait: float | None = None  # --once --wait: seconds to wait for rollouts (None: do not wait)
    watch: bool = True  # watch the apps' kinds to see drift at once (polling stays the fallback)


def parse_duration(text: str | float | int, *, source: str) -> float:
    """Seconds from `30`, `30s`, `5m`, `1h`, `1m30s`; must be positive."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        seconds = float(text)
    else:
        seconds = parse_seconds(str(text), name=f"{source}:")
    if seconds <= 0:
        raise BadInput(f"{source}: the interval must be positive, got {text!r}")
    return seconds


def app_name_for(path: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")[-63:].strip("-")
    return slug or "root"


def check_name(name: str, *, source: str) -> str:
    if not _NAME.match(name):
        raise BadInput(f"{source}: app name {name!r} must be lowercase letters, digits and '-' (max 63)")
    return name


_APP_KEYS = {f.name for f in fields(AppSettings)}


def app_from_mapping(raw: Any, *, source: str, defaults: Mapping[str, Any]) -> AppSettings:
    if not isinstance(raw, dict):
        raise BadInput(f"{source}: each app must be a mapping with at least repo and path")
    unknown = sorted(set(raw) - _APP_KEYS)
    if unknown:
        raise BadInput(f"{source}: unknown key {unknown[0]!r} (known: {', '.join(sorted(_APP_KEYS))})")
    values = {**defaults, **raw}
    _check_app_types(values, source)
    if not values.get("repo"):
        raise BadInput(f"{source}: repo is required")
    path = str(values.get("path") or ".")
    values["path"] = path
    values["name"] = check_name(str(values.get("name") or app_name_for(path)), source=source)
    values["interval"] = parse_duration(values.get("interval", 30.0), source=f"{source}: interval")
    for key in ("allowed_namespaces", "allowed_cluster_kinds"):
        values[key] = tuple(values.get(key) or ())
    for namespace in values["allowed_namespaces"]:
        if not _NAME.match(namespace):
            raise BadInput(f"{source}: allowed_namespaces: {namespace!r} is not a namespace name")
    values["clusters"] = app_clusters(values.get("clusters") or (), source=source)
    return AppSettings(**values)


_STRINGS = ("name", "repo", "branch", "path", "namespace", "token_env")
_FLAGS = ("prune", "self_heal", "allow_empty_prune", "kustomize_remote")
_STATUS_STRINGS = ("provider", "api_url", "token_env", "app_private_key_file", "app_private_key_env")
_TOP_STRINGS = ("cluster", "namespace", "kubeconfig", "context", "listen", "cache_dir", "identity",
                "webhook_secret_env")


def _check_app_types(values: Mapping[str, Any], source: str) -> None:
    """Wrong types in a config file are the operator's typo: one line naming the key, not a traceback."""
    for key in _STRINGS:
        if values.get(key) is not None and not isinstance(values[key], str):
            raise BadInput(f"{source}: {key} must be a string, not {type(values[key]).__name__}")
    for key in _FLAGS:
        if not isinstance(values.get(key, False), bool):
            raise BadInput(f"{source}: {key} must be true or false")
    for key in ("allowed_namespaces", "allowed_cluster_kinds"):
        items = values.get(key) or ()
        if not isinstance(items, (list, tuple)) or not all(isinstance(n, str) and n for n in items):
            raise BadInput(f"{source}: {key} must be a list of names")


def _check_top_types(raw: Mapping[str, Any], source: str) -> None:
    for key in _TOP_STRINGS:
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise BadInput(f"{source}: {key} must be a string, not {type(raw[key]).__name__}")
    if not isinstance(raw.get("leader_elect", False), bool):
        raise BadInput(f"{source}: leader_elect must be true or false")
    if isinstance(raw.get("lease_duration"), bool) or not isinstance(raw.get("lease_duration", 15), (int, float, str)):
        raise BadInput(f"{source}: lease_duration must be a duration such as 15s")
    status = raw.get("status")
    if status is not None and not (isinstance(status, dict) and all(
            isinstance(status.get(k), (str, type(None))) for k in _STATUS_STRINGS)
            and isinstance(status.get("app_id"), (str, int, type(None))) and not isinstance(status.get("app_id"), bool)):
        raise BadInput(f"{source}: status must be a mapping of {', '.join(_STATUS_STRINGS)} strings (and app_id)")
    unknown = sorted(set(status or {}) - {*_STATUS_STRINGS, "app_id"})
    if unknown:
        raise BadInput(f"{source}: status: unknown key {unknown[0]!r} (known: app_id, {', '.join(_STATUS_STRINGS)})")


def parse_listen(text: str, *, source: str = "--listen") -> tuple[str, int]:
    """`HOST:PORT` (or `:PORT`, `[::1]:PORT`) with a port from 0 to 65535."""
    host, colon, port = text.rpartition(":")
    if not colon or not (port.isascii() and port.isdigit()) or int(port) > 65535:
        raise BadInput(f"{source} {text!r}: expected HOST:PORT with a port from 0 to 65535, e.g. 0.0.0.0:8080")
    return host.strip("[]") or "127.0.0.1", int(port)


def load_config_file(path: Path) -> dict[str, Any]:
    try:
        raw = yamldocs.load(path.read_text())
    except OSError as err:
        raise BadInput(f"--config {path}: cannot read it ({err.strerror})") from err
    except yamldocs.YAMLError as err:
        raise BadInput(f"--config {path}: not valid YAML: {' '.join(str(err).split())}") from err
    if not isinstance(raw, dict) or not isinstance(raw.get("apps"), list) or not raw["apps"]:
        raise BadInput(f"--config {path}: expected a mapping with a non-empty `apps:` list")
    _check_top_types(raw, f"--config {path}")
    return raw


def build_settings(flags: Mapping[str, Any], *, config: Mapping[str, Any] | None, config_name: str = "") -> AgentSettings:
    """Flags (None when not given) over the config file over defaults."""
    overrides: dict[str, Any] = {k: flags[k] for k in ("prune", "self_heal", "allow_empty_prune", "kustomize_remote")
                                 if flags.get(k)}
    if flags.get("interval") is not None:
        overrides["interval"] = flags["interval"]
    for key in ("allowed_namespaces", "allowed_cluster_kinds"):
        if flags.get(key):
            overrides[key] = tuple(flags[key])
    apps: list[AppSettings] = []
    if config is not None:
        for index, raw in enumerate(config["apps"]):
            source = f"--config {config_name}: apps[{index}]"
            app = app_from_mapping(raw, source=source, defaults={})
            changes: dict[str, Any] = {k: (parse_duration(v, source="--interval") if k == "interval" else v)
                                       for k, v in overrides.items()}
            apps.append(replace(app, **changes))
    if flags.get("repo"):
        raw = {"repo": flags["repo"], "branch": flags.get("branch") or "main", "path": flags.get("path") or ".",
               "name": flags.get("name"), "namespace": flags.get("target_namespace"),
               "token_env": flags.get("token_env"), **overrides}
        apps.append(app_from_mapping({k: v for k, v in raw.items() if v is not None}, source="flags", defaults={}))
    if not apps:
        raise BadInput("--repo URL (with --path) or --config FILE is required: nothing to follow")
    names = [app.name for app in apps]
    if len(set(names)) != len(names):
        duplicate = next(n for n in names if names.count(n) > 1)
        raise BadInput(f"app name {duplicate!r} is used twice: give each app a distinct name")
    top = dict(config or {})
    configured = top.get("status") or {}
    app_id = flags.get("status_app_id") or configured.get("app_id")
    status = StatusSettings(
        provider=flags.get("status_provider") or configured.get("provider"),
        api_url=flags.get("status_api") or configured.get("api_url"),
        token_env=flags.get("status_token_env") or configured.get("token_env"),
        app_id=str(app_id) if app_id is not None else None,
        app_private_key_file=flags.get("status_app_private_key_file") or configured.get("app_private_key_file"),
        app_private_key_env=flags.get("status_app_private_key_env") or configured.get("app_private_key_env"),
    )
    if status.provider not in (None, "github", "gitlab"):
        raise BadInput(f"status provider {status.provider!r}: use github or gitlab")

    def pick(name: str, default: Any) -> Any:
        value = flags.get(name)
        return value if value is not None else top.get(name, default)

    kubeconfig = pick("kubeconfig", None)
    listen = pick("listen", None)
    if listen is not None:
        parse_listen(listen, source="--listen" if flags.get("listen") else f"--config {config_name}: listen")
    where = f"--config {config_name}" if config_name else "agent config"
    clusters = clusters_from_mapping(top.get("clusters"), source=where)
    check_targets(apps, clusters, source=where)
    policy_configmap = top.get("policy_configmap")
    if policy_configmap is not None and not (isinstance(policy_configmap, str) and _NAME.match(policy_configmap)):
        raise BadInput(f"{where}: policy_configmap: expected a ConfigMap name")
    return AgentSettings(
        apps=tuple(apps),
        cluster=str(pick("cluster", "default")),
        namespace=str(pick("namespace", "updater-system")),
        kubeconfig=Path(kubeconfig) if kubeconfig else None,
        context=pick("context", None),
        listen=listen,
        once=bool(flags.get("once")),
        dry_run=bool(flags.get("dry_run")),
        cache_dir=Path(pick("cache_dir", ".updater-agent-cache")),
        leader_elect=bool(pick("leader_elect", False)),
        identity=str(pick("identity", "updater-agent")),
        lease_seconds=parse_duration(pick("lease_duration", 15.0), source="--lease-duration"),
        webhook_secret_env=pick("webhook_secret_env", None),
        status=status,
        age_key_files=tuple(Path(p) for p in (flags.get("age_key_files") or _paths(top.get("age_key_files")))),
        policy=policy_from_mapping(top.get("policy"), source=where),
        policy_configmap=policy_configmap,
        clusters=clusters,
        wait=flags.get("wait"),
        watch=not flags.get("no_watch") and top.get("watch", True) is not False,
    )


def _paths(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        raise BadInput("age_key_files: give a list of file paths")
    return value
