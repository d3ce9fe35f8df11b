"""The resource table: which kinds exist, under which group/version and plural, and how they are scoped.

Built-in kinds come from `data/builtin_types.json`, reduced from the real server's discovery
documents (every group/version/kind a default kube-apiserver serves, with scope, plural, short names,
subresources, categories and verbs; versions the real server removed are not served, so they 404); `Discovery.add_crd` adds the kinds a CustomResourceDefinition
declares (and `remove_crd` takes them away again). The `*_document` methods render the legacy
discovery documents (`/api`, `/apis`, `/api/v1`, `/apis/<group>/<version>`) and the aggregated
discovery list (`apidiscovery.k8s.io/v2`) that kubectl asks for first. Thread-safe; no I/O.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from importlib import resources
from typing import Any

_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
_RW = ("get", "patch", "update")
# subresource -> (verbs, (group, version, kind) it answers with, or None for the parent's kind)
_SUBRESOURCES: dict[str, tuple[tuple[str, ...], tuple[str, str, str] | None]] = {
    "status": (_RW, None), "scale": (_RW, ("autoscaling", "v1", "Scale")), "approval": (_RW, None),
    "ephemeralcontainers": (_RW, None), "finalize": (("update",), None), "log": (("get",), None),
    "binding": (("create",), ("", "v1", "Binding")), "eviction": (("create",), ("policy", "v1", "Eviction")),
    "token": (("create",), ("authentication.k8s.io", "v1", "TokenRequest")),
    "attach": (("create", "get"), ("", "v1", "PodAttachOptions")),
    "exec": (("create", "get"), ("", "v1", "PodExecOptions")),
    "portforward": (("create", "get"), ("", "v1", "PodPortForwardOptions")),
    "proxy": (("create", "delete", "get", "patch", "update"), ("", "v1", "{kind}ProxyOptions")),
}


def subresource_info(kind: str, sub: str) -> tuple[tuple[str, ...], tuple[str, str, str] | None]:
    verbs, answer = _SUBRESOURCES.get(sub, (_RW, None))
    if answer is not None:
        answer = (answer[0], answer[1], answer[2].format(kind=kind))
    return verbs, answer


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
    verbs: tuple[str, ...] = _VERBS

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
            "verbs": list(self.verbs),
        }
        if self.short_names:
            main["shortNames"] = list(self.short_names)
        if self.categories:
            main["categories"] = list(self.categories)
        subs = []
        for sub in self.subresources:
            verbs, answer = subresource_info(self.kind, sub)
            entry: dict[str, Any] = {"name": f"{self.plural}/{sub}", "singularName": "", "namespaced": self.namespaced,
                                     "kind": answer[2] if answer else self.kind, "verbs": list(verbs)}
            if answer and answer[0]:
                entry["group"], entry["version"] = answer[0], answer[1]
            subs.append(entry)
        return [main, *subs]

    def aggregated(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "resource": self.plural,
            "responseKind": {"group": self.group, "version": self.version, "kind": self.kind},
            "scope": "Namespaced" if self.namespaced else "Cluster",
            "singularResource": self.singular,
            "verbs": list(self.verbs),
        }
        if self.short_names:
            entry["shortNames"] = list(self.short_names)
        if self.categories:
            entry["categories"] = list(self.categories)
        if self.subresources:
            entry["subresources"] = []
            for sub in self.subresources:
                verbs, answer = subresource_info(self.kind, sub)
                kind = ({"group": answer[0], "version": answer[1], "kind": answer[2]} if answer
                        else entry["responseKind"])
                entry["subresources"].append({"subresource": sub, "responseKind": kind, "verbs": list(verbs)})
        return entry


def _load_builtin() -> tuple[tuple[ResourceType, ...], dict[str, str]]:
    """The built-in types and removed versions, from the table reduced from the real server's
    discovery documents (`data/builtin_types.json`, see `data/PROVENANCE.md`)."""
    doc = json.loads(resources.files("updater_sandbox.kube").joinpath("data/builtin_types.json").read_text("utf-8"))
    types = []
    for entry in doc["types"]:
        group, _, version = str(entry["apiVersion"]).rpartition("/")
        types.append(ResourceType(group, version, entry["kind"], entry["resource"], entry["scope"] == "Namespaced",
                                  tuple(entry["shortNames"]), tuple(entry["subresources"]),
                                  tuple(entry["categories"]), tuple(entry.get("verbs") or _VERBS)))
    return tuple(types), dict(doc["removedVersions"])


BUILTIN, REMOVED_VERSIONS = _load_builtin()


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
