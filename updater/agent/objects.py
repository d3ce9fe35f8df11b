"""Kubernetes objects as plain dicts: their identity, the apply order, and the agent's own marks.

Pure: no I/O. An object's identity is (group, kind, namespace, name) — the version is left out on
purpose, since `apps/v1` and `apps/v1beta2` name the same stored object.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]

APP_LABEL = "updater.dev/app"  # ownership: only objects carrying our app's value may be pruned
HASH_ANNOTATION = "updater.dev/desired-hash"  # hash of the manifest last applied (skip no-op dry-runs)
RECREATE_ANNOTATION = "updater.dev/recreate"  # "true": delete and re-create on an immutable-field change
FIELD_MANAGER = "updater"

# Kinds that others depend on go first; custom resources (unknown kinds) last. Prune runs in reverse.
_KIND_ORDER = (
    "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
    "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass",
    "PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole",
    "ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList",
    "RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod", "ReplicationController",
    "ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob",
    "IngressClass", "Ingress", "APIService", "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
)
_RANK = {kind: index for index, kind in enumerate(_KIND_ORDER)}


@dataclass(frozen=True, order=True)
class ObjectKey:
    group: str
    kind: str
    namespace: str  # "" for cluster-scoped objects
    name: str

    def __str__(self) -> str:
        kind = f"{self.kind}.{self.group}" if self.group else self.kind
        return f"{kind} {self.namespace}/{self.name}" if self.namespace else f"{kind} {self.name}"

    def encode(self) -> str:
        """One line for the inventory: `group|kind|namespace|name`."""
        return "|".join((self.group, self.kind, self.namespace, self.name))

    @classmethod
    def decode(cls, line: str) -> ObjectKey:
        group, kind, namespace, name = line.split("|")
        return cls(group, kind, namespace, name)


def group_of(api_version: str) -> str:
    return api_version.rpartition("/")[0]


def key_of(obj: Obj) -> ObjectKey:
    meta = obj.get("metadata") or {}
    return ObjectKey(group_of(obj["apiVersion"]), obj["kind"], meta.get("namespace") or "", meta["name"])


def is_kubernetes_object(doc: Any) -> bool:
    """A mapping with apiVersion, kind and metadata.name: anything else in a tree is not ours to apply."""
    if not isinstance(doc, dict):
        return False
    meta = doc.get("metadata")
    return (isinstance(doc.get("apiVersion"), str) and isinstance(doc.get("kind"), str)
            and isinstance(meta, dict) and isinstance(meta.get("name"), str) and bool(meta["name"]))


def is_crd(key: ObjectKey) -> bool:
    return key.kind == "CustomResourceDefinition" and key.group == "apiextensions.k8s.io"


def apply_rank(key: ObjectKey) -> tuple[int, str, str, str, str]:
    """Sort key: kind rank, then identity (plain strings: sorting 2,000 objects stays cheap)."""
    return (_RANK.get(key.kind, len(_KIND_ORDER)), key.group, key.kind, key.namespace, key.name)


def apply_order(objects: list[Obj]) -> list[Obj]:
    """Namespaces and CRDs before what lives in them; custom resources last; stable by identity."""
    return sorted(objects, key=lambda obj: apply_rank(key_of(obj)))


def prune_order(keys: list[ObjectKey]) -> list[ObjectKey]:
    """The reverse of the apply order: dependents go before what they live in."""
    return sorted(keys, key=apply_rank, reverse=True)


def desired_hash(obj: Obj) -> str:
    """A stable hash of a manifest as rendered (before the agent adds its own label and annotation)."""
    canonical = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def labels(obj: Obj) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


def annotations_of(obj: Obj) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("annotations") or {}


def mark(obj: Obj, *, app: str) -> Obj:
    """A copy of `obj` carrying our ownership label and the hash of its manifest as rendered."""
    meta = dict(obj.get("metadata") or {})
    meta["labels"] = {**(meta.get("labels") or {}), APP_LABEL: app}
    meta["annotations"] = {**(meta.get("annotations") or {}), HASH_ANNOTATION: desired_hash(obj)}
    return {**obj, "metadata": meta}


def with_namespace(obj: Obj, namespace: str) -> Obj:
    return {**obj, "metadata": {**obj["metadata"], "namespace": namespace}}
