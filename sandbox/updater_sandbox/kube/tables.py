"""`meta.k8s.io/v1 Table` rendering, which `kubectl get` asks for to print its columns. Pure."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from updater_sandbox.kube.discovery import ResourceType

_NAME = {"name": "Name", "type": "string", "format": "name", "description": "Name of the object", "priority": 0}
_AGE = {"name": "Age", "type": "string", "format": "", "description": "Time since creation", "priority": 0}


def _age(timestamp: str | None, now: datetime) -> str:
    if not timestamp:
        return "<unknown>"
    seconds = int((now - datetime.fromisoformat(timestamp)).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


def _extra(kind: str, obj: dict[str, Any]) -> list[tuple[str, Any, int]]:
    """(column, value, priority) beyond Name and Age; priority 1 columns show only with `-o wide`."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    if kind in ("Deployment", "StatefulSet", "ReplicaSet"):
        ready = f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}"
        if kind == "Deployment":
            return [("Ready", ready, 0), ("Up-to-date", status.get("updatedReplicas", 0), 0),
                    ("Available", status.get("availableReplicas", 0), 0), *_wide(spec)]
        return [("Ready", ready, 0), *_wide(spec)]
    if kind == "ConfigMap":
        return [("Data", len(obj.get("data") or {}) + len(obj.get("binaryData") or {}), 0)]
    if kind == "Secret":
        return [("Type", obj.get("type", "Opaque"), 0), ("Data", len(obj.get("data") or {}), 0)]
    if kind == "Service":
        return [("Type", spec.get("type", "ClusterIP"), 0), ("Cluster-IP", spec.get("clusterIP", "<none>"), 0)]
    if kind == "Namespace":
        return [("Status", status.get("phase", "Active"), 0)]
    if kind == "Job":
        return [("Status", "Complete" if status.get("succeeded") else "Running", 0)]
    if kind == "Lease":
        return [("Holder", spec.get("holderIdentity", ""), 0)]
    return []


def _wide(spec: dict[str, Any]) -> list[tuple[str, Any, int]]:
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
    selector = (spec.get("selector") or {}).get("matchLabels") or {}
    return [("Containers", ",".join(str(c.get("name", "")) for c in containers), 1),
            ("Images", ",".join(str(c.get("image", "")) for c in containers), 1),
            ("Selector", ",".join(f"{k}={v}" for k, v in selector.items()), 1)]


def _column(name: str, priority: int) -> dict[str, Any]:
    return {"name": name, "type": "string", "format": "", "description": "", "priority": priority}


def table(rt: ResourceType, items: list[dict[str, Any]], resource_version: str, include: str,
          now: datetime | None = None) -> dict[str, Any]:
    """`include` is the includeObject parameter: None, Metadata (the default) or Object."""
    now = now or datetime.now(timezone.utc)
    extras = [(name, priority) for name, _, priority in _extra(rt.kind, items[0] if items else {})]
    columns = [_NAME, *(_column(n, p) for n, p in extras if p == 0), _AGE, *(_column(n, p) for n, p in extras if p)]
    rows = []
    for obj in items:
        meta = obj.get("metadata") or {}
        extra = _extra(rt.kind, obj)
        row: dict[str, Any] = {"cells": [meta.get("name"), *(v for _, v, p in extra if p == 0),
                                         _age(meta.get("creationTimestamp"), now), *(v for _, v, p in extra if p)]}
        if include == "Object":
            row["object"] = obj
        elif include != "None":
            slim = {k: v for k, v in meta.items() if k != "managedFields"}  # kubectl never reads them here
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": slim}
        rows.append(row)
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": resource_version},
            "columnDefinitions": columns, "rows": rows}
