"""Store hooks that play the parts of the API server's built-in controllers we emulate:

- a CustomResourceDefinition, once stored, adds its kinds to discovery and becomes `Established`
  (at once by default; with `CrdPolicy.establish = False` only when `establish_crd` is called, so a
  client's wait for Established can be tested); deleting it removes the kinds and every custom
  resource of them;
- deleting a Namespace deletes everything in it (at once: no `Terminating` phase).

Hooks run under the store lock right after the write that triggered them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from updater_sandbox.kube import errors
from updater_sandbox.kube.discovery import Discovery, ResourceType, crd_resource_types
from updater_sandbox.kube.store import Obj, Store


@dataclass
class CrdPolicy:
    establish: bool = True  # False: a new CRD waits for `establish_crd`


def _is_established(crd: Obj) -> bool:
    return any(c.get("type") == "Established" and c.get("status") == "True"
               for c in (crd.get("status") or {}).get("conditions") or [])


def _crd_status(crd: Obj, now: str, *, established: bool) -> dict[str, Any]:
    spec = crd.get("spec") or {}
    previous = {c.get("type"): c for c in (crd.get("status") or {}).get("conditions") or []}
    conditions = [
        {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found"},
        {"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
         "message": "the initial names have been accepted"} if established else
        {"type": "Established", "status": "False", "reason": "Installing", "message": "the resource is installing"},
    ]
    for c in conditions:  # keep transition times stable so a re-store is a no-op
        old = previous.get(c["type"]) or {}
        c["lastTransitionTime"] = old.get("lastTransitionTime", now) if old.get("status") == c["status"] else now
    names = dict(spec.get("names") or {})
    names.setdefault("singular", str(names.get("kind", "")).lower())
    names.setdefault("listKind", f"{names.get('kind', '')}List")
    return {"acceptedNames": names, "conditions": conditions,
            "storedVersions": [v["name"] for v in spec.get("versions") or [] if v.get("storage")]}


def install(store: Store, discovery: Discovery, policy: CrdPolicy) -> None:
    crds = discovery.find("apiextensions.k8s.io", "v1", "customresourcedefinitions")
    namespaces = discovery.find("", "v1", "namespaces")

    def on_write(rt: ResourceType, old: Obj | None, new: Obj | None) -> None:
        if rt == crds:
            _crd_changed(store, discovery, rt, old, new, establish=policy.establish)
        elif rt == namespaces and new is None and old is not None:
            _namespace_deleted(store, discovery, old["metadata"]["name"])

    store.on_write.append(on_write)


def establish_crd(store: Store, discovery: Discovery, name: str) -> None:
    """Establish a CRD held back by `CrdPolicy(establish=False)`: its kinds appear in discovery."""
    crds = discovery.find("apiextensions.k8s.io", "v1", "customresourcedefinitions")
    assert crds is not None
    with store.lock:
        crd = store.peek(crds, "", name)
        if crd is None:
            raise errors.not_found(crds.group, crds.plural, name)
        _crd_changed(store, discovery, crds, None, crd, establish=True)


def _crd_changed(store: Store, discovery: Discovery, rt: ResourceType, old: Obj | None, new: Obj | None,
                 *, establish: bool) -> None:
    name = (new or old or {}).get("metadata", {}).get("name", "")
    if new is None:
        for crd_type in crd_resource_types(old or {}):
            for obj in store.list(crd_type, None)[0]:
                store.delete(crd_type, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        discovery.remove_crd(name)
        return
    established = establish or _is_established(new)
    if established:
        discovery.add_crd(name, crd_resource_types(new))
    status = _crd_status(new, store.clock(), established=established)
    if new.get("status") != status:
        store.update(rt, {**new, "status": status})


def _namespace_deleted(store: Store, discovery: Discovery, namespace: str) -> None:
    for rt in discovery.types():
        if rt.namespaced:
            for obj in store.list(rt, namespace)[0]:
                store.delete(rt, namespace, obj["metadata"]["name"])
