"""`meta.k8s.io/v1 Table` rendering, which `kubectl get` asks for to print its columns. Pure."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from updater.sandbox.kube.discovery import ResourceType

_NAME = {"name": "Name", "type": "string", "format": "name", "description": "Name of the object", "priority": 0}
_AGE = {"name": "Age", "type": "string", "format": "", "description": "Time since creation", "priority": 0}


def _age(timestamp: str | None, now: datetime) -> str:
    if not timestamp:
        return "<unknown>"
    seconds = int((now - datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


def _extra(kind: str, obj: dict[str, Any]) -> list[tuple[str, Any]]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    if kind in ("Deployment", "StatefulSet", "ReplicaSet"):
        ready = f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}"
        if kind == "Deployment":
            return [("Ready", ready), ("Up-to-date", status.get("updatedReplicas", 0)),
                    ("Available", status.get("availableReplicas", 0))]
        return [("Ready", ready)]
    if kind == "ConfigMap":
        return [("Data", len(obj.get("data") or {}) + len(obj.get("binaryData") or {}))]
    if kind == "Secret":
        return [("Type", obj.get("type", "Opaque")), ("Data", len(obj.get("data") or {}))]
    if kind == "Service":
        return [("Type", spec.get("type", "ClusterIP")), ("Cluster-IP", spec.get("clusterIP", "<none>"))]
    if kind == "Namespace":
        return [("Status", status.get("phase", "Active"))]
    if kind == "Job":
        return [("Status", "Complete" if status.get("succeeded") else "Running")]
    if kind == "Lease":
        return [("Holder", spec.get("holderIdentity", ""))]
    return []


def table(rt: ResourceType, items: list[dict[str, Any]], resource_version: str, include: str,
          now: datetime | None = None) -> dict[str, Any]:
    """`include` is the includeObject parameter: None, Metadata (the default) or Object."""
    now = now or datetime.now(timezone.utc)
    extra_names = [name for name, _ in _extra(rt.kind, items[0])] if items else [name for name, _ in _extra(rt.kind, {})]
    columns = [_NAME, *({"name": n, "type": "string", "format": "", "description": "", "priority": 0}
                        for n in extra_names), _AGE]
    rows = []
    for obj in items:
        meta = obj.get("metadata") or {}
        row: dict[str, Any] = {"cells": [meta.get("name"), *(v for _, v in _extra(rt.kind, obj)),
                                         _age(meta.get("creationTimestamp"), now)]}
        if include == "Object":
            row["object"] = obj
        elif include != "None":
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta}
        rows.append(row)
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": resource_version},
            "columnDefinitions": columns, "rows": rows}
