"""The resource table: which kinds exist, under which group/version and plural, and how they are scoped.

Built-in kinds are listed here; `Discovery.add_crd` adds the kinds a CustomResourceDefinition
declares (and `remove_crd` takes them away again). The `*_document` methods render the legacy
discovery documents (`/api`, `/apis`, `/api/v1`, `/apis/<group>/<version>`) and the aggregated
discovery list (`apidiscovery.k8s.io/v2`) that kubectl asks for first. Thread-safe; no I/O.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
_STATUS = ("status",)


@dataclass(frozen=True)
class ResourceType:
    group: str  # "" for the core group
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def key(self) -> tuple[str, str]:
        """Identity across versions: the stored objects of (group, plural)."""
        return (self.group, self.plural)

    def api_resources(self) -> list[dict[str, Any]]:
        main: dict[str, Any] = {
            "name": self.plural,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": list(_VERBS),
        }
        if self.short_names:
            main["shortNames"] = list(self.short_names)
        if self.categories:
            main["categories"] = list(self.categories)
        subs = [
            {"name": f"{self.plural}/{sub}", "singularName": "", "namespaced": self.namespaced, "kind": self.kind,
             "verbs": ["get", "patch", "update"]}
            for sub in self.subresources
        ]
        return [main, *subs]

    def aggregated(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "resource": self.plural,
            "responseKind": {"group": self.group, "version": self.version, "kind": self.kind},
            "scope": "Namespaced" if self.namespaced else "Cluster",
            "singularResource": self.singular,
            "verbs": list(_VERBS),
        }
        if self.short_names:
            entry["shortNames"] = list(self.short_names)
        if self.categories:
            entry["categories"] = list(self.categories)
        if self.subresources:
            entry["subresources"] = [
                {"subresource": sub, "responseKind": entry["responseKind"], "verbs": ["get", "patch", "update"]}
                for sub in self.subresources
            ]
        return entry


def _t(api_version: str, kind: str, plural: str, namespaced: bool = True, *short: str,
       subs: tuple[str, ...] = (), categories: tuple[str, ...] = ()) -> ResourceType:
    group, _, version = api_version.rpartition("/")
    return ResourceType(group, version, kind, plural, namespaced, short, subs, categories)


_ALL = ("all",)
BUILTIN: tuple[ResourceType, ...] = (
    _t("v1", "Namespace", "namespaces", False, "ns", subs=_STATUS),
    _t("v1", "ConfigMap", "configmaps", True, "cm"),
    _t("v1", "Secret", "secrets"),
    _t("v1", "Service", "services", True, "svc", subs=_STATUS, categories=_ALL),
    _t("v1", "ServiceAccount", "serviceaccounts", True, "sa"),
    _t("v1", "Pod", "pods", True, "po", subs=_STATUS, categories=_ALL),
    _t("v1", "PersistentVolumeClaim", "persistentvolumeclaims", True, "pvc", subs=_STATUS),
    _t("v1", "Event", "events", True, "ev"),
    _t("apps/v1", "Deployment", "deployments", True, "deploy", subs=("status", "scale"), categories=_ALL),
    _t("apps/v1", "StatefulSet", "statefulsets", True, "sts", subs=("status", "scale"), categories=_ALL),
    _t("apps/v1", "DaemonSet", "daemonsets", True, "ds", subs=_STATUS, categories=_ALL),
    _t("apps/v1", "ReplicaSet", "replicasets", True, "rs", subs=("status", "scale"), categories=_ALL),
    _t("batch/v1", "Job", "jobs", True, subs=_STATUS, categories=_ALL),
    _t("batch/v1", "CronJob", "cronjobs", True, "cj", subs=_STATUS, categories=_ALL),
    _t("rbac.authorization.k8s.io/v1", "Role", "roles"),
    _t("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings"),
    _t("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", False),
    _t("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", False),
    _t("apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", False, "crd", "crds",
       subs=_STATUS),
    _t("coordination.k8s.io/v1", "Lease", "leases"),
    _t("events.k8s.io/v1", "Event", "events", True, "ev"),
    _t("networking.k8s.io/v1", "Ingress", "ingresses", True, "ing", subs=_STATUS),
    _t("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", True, "netpol"),
    _t("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", True, "pdb", subs=_STATUS),
)


def crd_resource_types(crd: dict[str, Any]) -> list[ResourceType]:
    """The kinds a CustomResourceDefinition serves (one per served version)."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    namespaced = spec.get("scope", "Namespaced") == "Namespaced"
    types = []
    for version in spec.get("versions") or []:
        if not version.get("served", True):
            continue
        subs = tuple(sorted((version.get("subresources") or {}).keys()))
        types.append(ResourceType(
            spec.get("group", ""), version["name"], names.get("kind", ""), names.get("plural", ""), namespaced,
            tuple(names.get("shortNames") or ()), subs, tuple(names.get("categories") or ()),
        ))
    return types


class Discovery:
    """The live resource table: built-ins plus whatever established CRDs add."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._types: list[ResourceType] = list(BUILTIN)
        self._crd_types: dict[str, list[ResourceType]] = {}

    def types(self) -> list[ResourceType]:
        with self._lock:
            return list(self._types) + [t for ts in self._crd_types.values() for t in ts]

    def add_crd(self, crd_name: str, types: list[ResourceType]) -> None:
        with self._lock:
            self._crd_types[crd_name] = types

    def remove_crd(self, crd_name: str) -> None:
        with self._lock:
            self._crd_types.pop(crd_name, None)

    def find(self, group: str, version: str, plural: str) -> ResourceType | None:
        for rt in self.types():
            if (rt.group, rt.version, rt.plural) == (group, version, plural):
                return rt
        return None

    def by_kind(self, api_version: str, kind: str) -> ResourceType | None:
        for rt in self.types():
            if rt.api_version == api_version and rt.kind == kind:
                return rt
        return None

    def group_versions(self) -> dict[str, list[str]]:
        """Every group (core first as "") with its versions, preferred version first."""
        groups: dict[str, list[str]] = {}
        for rt in self.types():
            versions = groups.setdefault(rt.group, [])
            if rt.version not in versions:
                versions.append(rt.version)
        return groups

    def core_versions_document(self) -> dict[str, Any]:
        return {"kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}

    def groups_document(self) -> dict[str, Any]:
        return {"kind": "APIGroupList", "apiVersion": "v1",
                "groups": [self.group_document(g) for g in self.group_versions() if g]}

    def group_document(self, group: str) -> dict[str, Any]:
        versions = [{"groupVersion": f"{group}/{v}", "version": v} for v in self.group_versions().get(group, [])]
        return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": versions,
                "preferredVersion": versions[0] if versions else {}}

    def resource_list_document(self, group: str, version: str) -> dict[str, Any] | None:
        types = [rt for rt in self.types() if (rt.group, rt.version) == (group, version)]
        if not types:
            return None
        return {"kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": f"{group}/{version}" if group else version,
                "resources": [entry for rt in types for entry in rt.api_resources()]}

    def aggregated_document(self, *, core: bool) -> dict[str, Any]:
        """`/api` (core=True) or `/apis` as an `APIGroupDiscoveryList`."""
        items = []
        for group, versions in self.group_versions().items():
            if (group == "") != core:
                continue
            items.append({
                "metadata": {"name": group, "creationTimestamp": None},
                "versions": [
                    {"version": v, "freshness": "Current",
                     "resources": [rt.aggregated() for rt in self.types() if (rt.group, rt.version) == (group, v)]}
                    for v in versions
                ],
            })
        return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
                "metadata": {}, "items": items}
