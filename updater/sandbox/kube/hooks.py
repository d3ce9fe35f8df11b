"""Store hooks that play the parts of the API server's built-in controllers we emulate:

- a CustomResourceDefinition, once stored, adds its kinds to discovery and becomes `Established`
  (deleting it removes the kinds and every custom resource of them);
- deleting a Namespace deletes everything in it (at once: no `Terminating` phase).

Hooks run under the store lock right after the write that triggered them.
"""

from __future__ import annotations

from typing import Any

from updater.sandbox.kube.discovery import Discovery, ResourceType, crd_resource_types
from updater.sandbox.kube.store import Obj, Store


def _crd_status(crd: Obj, now: str) -> dict[str, Any]:
    spec = crd.get("spec") or {}
    condition = {"lastTransitionTime": now, "status": "True"}
    previous = {c.get("type"): c for c in (crd.get("status") or {}).get("conditions") or []}
    conditions = [
        {**condition, "type": "NamesAccepted", "reason": "NoConflicts", "message": "no conflicts found"},
        {**condition, "type": "Established", "reason": "InitialNamesAccepted",
         "message": "the initial names have been accepted"},
    ]
    for c in conditions:  # keep transition times stable so a re-store is a no-op
        if c["type"] in previous and previous[c["type"]].get("status") == "True":
            c["lastTransitionTime"] = previous[c["type"]].get("lastTransitionTime", now)
    names = dict(spec.get("names") or {})
    names.setdefault("singular", str(names.get("kind", "")).lower())
    names.setdefault("listKind", f"{names.get('kind', '')}List")
    return {"acceptedNames": names, "conditions": conditions,
            "storedVersions": [v["name"] for v in spec.get("versions") or [] if v.get("storage")]}


def install(store: Store, discovery: Discovery) -> None:
    crds = discovery.find("apiextensions.k8s.io", "v1", "customresourcedefinitions")
    namespaces = discovery.find("", "v1", "namespaces")

    def on_write(rt: ResourceType, old: Obj | None, new: Obj | None) -> None:
        if rt == crds:
            _crd_changed(store, discovery, rt, old, new)
        elif rt == namespaces and new is None and old is not None:
            _namespace_deleted(store, discovery, old["metadata"]["name"])

    store.on_write.append(on_write)


def _crd_changed(store: Store, discovery: Discovery, rt: ResourceType, old: Obj | None, new: Obj | None) -> None:
    name = (new or old or {}).get("metadata", {}).get("name", "")
    if new is None:
        for crd_type in crd_resource_types(old or {}):
            for obj in store.list(crd_type, None)[0]:
                store.delete(crd_type, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        discovery.remove_crd(name)
        return
    discovery.add_crd(name, crd_resource_types(new))
    status = _crd_status(new, store.clock())
    if new.get("status") != status:
        store.update(rt, {**new, "status": status})


def _namespace_deleted(store: Store, discovery: Discovery, namespace: str) -> None:
    for rt in discovery.types():
        if rt.namespaced:
            for obj in store.list(rt, namespace)[0]:
                store.delete(rt, namespace, obj["metadata"]["name"])
