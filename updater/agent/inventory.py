"""What an app applied, kept in the cluster, and which of those objects may be pruned.

The inventory is a ConfigMap `updater-inventory-<app>` in the agent's namespace: `data.objects` lists
one `apiVersion|kind|namespace|name` per line, `data.status` holds the app's last status (JSON).
It carries `updater.dev/inventory=<app>`, not the ownership label, so it is never one of the app's
own objects. Building, reading and the prune selection are pure; the client reads and writes it.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from updater.agent.objects import APP_LABEL, Obj, ObjectKey, group_of, key_of, labels, prune_order

INVENTORY_LABEL = "updater.dev/inventory"


@dataclass(frozen=True)
class Inventory:
    app: str
    entries: tuple[tuple[str, ObjectKey], ...] = ()  # (apiVersion, identity), in apply order
    status: Mapping[str, Any] = field(default_factory=dict)

    @property
    def keys(self) -> frozenset[ObjectKey]:
        return frozenset(key for _, key in self.entries)

    def api_version(self, key: ObjectKey) -> str | None:
        return next((version for version, k in self.entries if k == key), None)


def inventory_name(app: str) -> str:
    return f"updater-inventory-{app}"


def from_objects(app: str, objects: list[Obj], *, status: Mapping[str, Any] | None = None) -> Inventory:
    return Inventory(app, tuple((obj["apiVersion"], key_of(obj)) for obj in objects), dict(status or {}))


def to_configmap(inventory: Inventory, *, namespace: str) -> Obj:
    lines = [f"{version}|{key.kind}|{key.namespace}|{key.name}" for version, key in inventory.entries]
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": inventory_name(inventory.app), "namespace": namespace,
                     "labels": {INVENTORY_LABEL: inventory.app}},
        "data": {"objects": "\n".join(lines), "status": json.dumps(dict(inventory.status), sort_keys=True)},
    }


def from_configmap(app: str, configmap: Obj | None) -> Inventory | None:
    """The stored inventory, or None when there is none yet (first sync) or it is unreadable."""
    if configmap is None:
        return None
    data = configmap.get("data") or {}
    entries = []
    for line in (data.get("objects") or "").splitlines():
        parts = line.split("|")
        if len(parts) != 4:
            return None  # not written by us: treat as no inventory (prunes nothing)
        version, kind, namespace, name = parts
        entries.append((version, ObjectKey(group_of(version), kind, namespace, name)))
    try:
        status = json.loads(data.get("status") or "{}")
    except json.JSONDecodeError:
        status = {}
    return Inventory(app, tuple(entries), status if isinstance(status, dict) else {})


def cluster_kind_allowed(key: ObjectKey, allowed_namespaces: Collection[str],
                         cluster_kinds: Collection[str]) -> bool:
    """Namespaced objects, and Namespaces (`namespace_allowed` judges those), always; other
    cluster-scoped objects only when the app is not confined (no allowed namespaces or cluster
    kinds) or the operator lists their kind (`Kind` or `Kind.group`) in allowed_cluster_kinds."""
    if key.namespace or (key.kind == "Namespace" and key.group == ""):
        return True
    if not allowed_namespaces and not cluster_kinds:
        return True
    return key.kind in cluster_kinds or f"{key.kind}.{key.group}" in cluster_kinds


def namespace_allowed(key: ObjectKey, allowed: Collection[str]) -> bool:
    """Objects in (or, for a Namespace, named as) an allowed namespace; any when none are listed."""
    if not allowed:
        return True
    if key.kind == "Namespace" and key.group == "":
        return key.name in allowed
    return not key.namespace or key.namespace in allowed


@dataclass(frozen=True)
class PruneSelection:
    delete: tuple[ObjectKey, ...]  # in prune order (reverse apply order)
    notes: tuple[str, ...] = ()


def select_prune(
    previous: Inventory | None,
    desired: Collection[ObjectKey],
    live: Mapping[ObjectKey, Obj],
    *,
    app: str,
    allowed_namespaces: Collection[str] = (),
    allowed_cluster_kinds: Collection[str] = (),
) -> PruneSelection:
    """Objects to delete: in the previous inventory, no longer desired, still live, labelled as this
    app's, and inside the allowed namespaces. Everything else is kept, with a note saying why."""
    if previous is None:
        return PruneSelection(())
    delete: list[ObjectKey] = []
    notes: list[str] = []
    for key in previous.keys - set(desired):
        obj = live.get(key)
        if obj is None:
            continue  # already gone
        owner = labels(obj).get(APP_LABEL)
        if owner != app:
            notes.append(f"not pruning {key}: it is labelled {APP_LABEL}={owner or '(none)'}, not {app}")
        elif not namespace_allowed(key, allowed_namespaces):
            notes.append(f"not pruning {key}: outside the allowed namespaces")
        elif not cluster_kind_allowed(key, allowed_namespaces, allowed_cluster_kinds):
            notes.append(f"not pruning {key}: its cluster-scoped kind is not in allowed_cluster_kinds")
        else:
            delete.append(key)
    return PruneSelection(tuple(prune_order(delete)), tuple(notes))
