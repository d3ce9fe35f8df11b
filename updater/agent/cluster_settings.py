"""The agent config's `clusters:` — the target clusters one agent deploys to — read strictly. Pure.

    clusters:
      prod-eu: {kubeconfig: /etc/updater/eu.kubeconfig, context: eu}
      prod-us: {kubeconfig: /etc/updater/us.kubeconfig, timeout: 5s}
      home: {in_cluster: true}          # the service account of the pod the agent runs in

An app names the cluster(s) it deploys to with `clusters: [prod-eu, prod-us]` (none: the agent's
own cluster, from --kubeconfig/--context as before); its `path` may contain `{cluster}`, replaced by
each cluster's name (the agent's own cluster: its --cluster name), so one app can deploy a tree per
cluster or the same tree everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from updater.errors import BadInput

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")  # in commit status contexts and metric labels
_KEYS = ("kubeconfig", "context", "in_cluster", "timeout")


@dataclass(frozen=True)
class ClusterSettings:
    name: str
    kubeconfig: Path | None = None  # None with in_cluster: the service account; else $KUBECONFIG & co
    context: str | None = None
    in_cluster: bool = False
    # seconds per API request: bounds how long one unreachable cluster can hold its own worker
    timeout: float = 10.0


def clusters_from_mapping(raw: Any, *, source: str) -> tuple[ClusterSettings, ...]:
    """`clusters:` as a mapping name -> settings; `source` names the file in messages."""
    from updater.agent.settings import parse_duration  # settings imports this module

    if raw is None:
        return ()
    if not isinstance(raw, Mapping) or not raw:
        raise BadInput(f"{source}: clusters: expected a mapping of cluster name to kubeconfig/context")
    found = []
    for name, entry in raw.items():
        where = f"{source}: clusters.{name}"
        if not isinstance(name, str) or not _NAME.match(name):
            raise BadInput(f"{where}: a cluster name is lowercase letters, digits and '-' (max 63)")
        entry = {} if entry is None else entry
        if not isinstance(entry, Mapping):
            raise BadInput(f"{where}: expected a mapping with kubeconfig/context, or in_cluster: true")
        unknown = sorted(set(entry) - set(_KEYS))
        if unknown:
            raise BadInput(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(_KEYS)})")
        for key in ("kubeconfig", "context"):
            if entry.get(key) is not None and not isinstance(entry[key], str):
                raise BadInput(f"{where}.{key}: expected a string")
        in_cluster = entry.get("in_cluster", False)
        if not isinstance(in_cluster, bool):
            raise BadInput(f"{where}.in_cluster: expected true or false")
        if in_cluster and (entry.get("kubeconfig") or entry.get("context")):
            raise BadInput(f"{where}: in_cluster excludes kubeconfig and context")
        timeout = parse_duration(entry.get("timeout", 10.0), source=f"{where}.timeout")
        kubeconfig = entry.get("kubeconfig")
        found.append(ClusterSettings(name, Path(kubeconfig) if kubeconfig else None, entry.get("context"),
                                     in_cluster, timeout))
    return tuple(found)


def app_clusters(raw: Any, *, source: str) -> tuple[str, ...]:
    """An app's `clusters:` (a name or a list of names), checked for shape only."""
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, (list, tuple)) or not all(isinstance(n, str) and n for n in items):
        raise BadInput(f"{source}: clusters must be a list of cluster names")
    if len(set(items)) != len(items):
        raise BadInput(f"{source}: clusters lists a cluster twice")
    return tuple(items)


def check_targets(apps: Any, clusters: tuple[ClusterSettings, ...], *, source: str) -> None:
    """Every cluster an app names is declared under `clusters:`."""
    known = {c.name for c in clusters}
    for app in apps:
        for name in app.clusters:
            if name not in known:
                raise BadInput(f"{source}: app {app.name}: cluster {name!r} is not declared under clusters: "
                               f"(declared: {', '.join(sorted(known)) or 'none'})")
