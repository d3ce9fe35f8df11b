"""Writes: create, update (PUT), patch (apply, merge, strategic-merge, JSON), scale and delete.

Each write fills in server defaults (`defaults`), validates (`validation`), keeps the
`managedFields` books (`ssa`) and then stores, all under the store lock so read-modify-write is atomic; `dryRun=All` runs all of
it and persists nothing. Deleting an owner deletes its dependents (unless `Orphan`), as the
garbage collector would.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from updater_sandbox.kube import defaults, errors, ssa, validation
from updater_sandbox.kube.discovery import Discovery
from updater_sandbox.kube.fieldsets import pathstr
from updater_sandbox.kube.patches import PatchError, json_patch, merge_patch, strategic_merge_patch
from updater_sandbox.kube.routes import Target
from updater_sandbox.kube.store import Obj, Store
from updater_sandbox.kube.tree import clone
from updater_sandbox.kube.wire import APPLY, Request, Response, json_body, scale_view, selection

_PATCHERS = {
    "application/merge-patch+json": merge_patch,
    "application/strategic-merge-patch+json": strategic_merge_patch,
    "application/json-patch+json": json_patch,
}


@dataclass
class Writes:
    store: Store
    discovery: Discovery

    def _manager(self, request: Request, *, required: bool = False) -> str:
        manager = request.query.get("fieldManager", "")
        if not manager and required:
            raise errors.invalid("PatchOptions", "meta.k8s.io", "",
                                 [("fieldManager", "Required value: is required for apply patch")])
        return manager or request.headers.get("user-agent", "unknown").split("/")[0] or "unknown"

    def _prepare_new(self, target: Target, obj: Obj) -> Obj:
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + secrets.token_hex(3)[:5]
        if target.rt.namespaced:
            meta["namespace"] = target.namespace or meta.get("namespace") or "default"
        else:
            meta.pop("namespace", None)
        return obj

    def create(self, target: Target, obj: Obj, request: Request) -> Obj:
        rt = target.rt
        validation.check_identity(rt, obj, namespace=target.namespace)
        obj = self._prepare_new(target, obj)
        if "status" in rt.subresources and rt.kind != "Namespace":
            obj.pop("status", None)  # status belongs to controllers; the real server drops it on create
        defaults.apply_defaults(rt, obj)
        validation.validate(rt, None, obj)
        obj = ssa.record_update(None, obj, manager=self._manager(request), api_version=rt.api_version,
                                now=self.store.clock())
        return self.store.create(rt, obj, dry_run=request.dry_run, fresh=True)

    def update(self, target: Target, obj: Obj, request: Request) -> Obj:
        rt = target.rt
        validation.check_identity(rt, obj, namespace=target.namespace, name=target.name)
        with self.store.lock:
            live = self.store.get(rt, target.namespace, target.name)
            return self._write(target, live, obj, request, manager=self._manager(request))

    def _write(self, target: Target, live: Obj, new: Obj, request: Request, *, manager: str) -> Obj:
        """Store `new` over `live` keeping what this endpoint may not change (status or the rest)."""
        rt = target.rt
        new = self._prepare_new(target, new)
        new["metadata"]["name"] = target.name
        if "status" in rt.subresources:
            if target.subresource == "status":
                new = {**live, "status": new.get("status"),
                       "metadata": {**live["metadata"], "resourceVersion": new["metadata"].get("resourceVersion")}}
            else:
                new["status"] = live.get("status")
                if new["status"] is None:
                    new.pop("status")
        defaults.apply_defaults(rt, new)
        validation.validate(rt, live, new)
        new = ssa.record_update(live, new, manager=manager, api_version=rt.api_version, now=self.store.clock(),
                                subresource=target.subresource)
        return self.store.update(rt, new, dry_run=request.dry_run, fresh=True)

    def patch(self, target: Target, request: Request) -> Response:
        rt = target.rt
        body = json_body(request, allow_list=request.content_type == "application/json-patch+json")
        if request.content_type == APPLY:
            manager = self._manager(request, required=True)
            validation.check_identity(rt, body, namespace=target.namespace, name=target.name)
            with self.store.lock:
                live = self.store.peek(rt, target.namespace, target.name)  # read-only below: no copy
                if live is None and target.subresource:
                    raise errors.not_found(rt.group, rt.plural, target.name)
                try:
                    merged = ssa.apply(live, body, manager=manager, api_version=rt.api_version,
                                       now=self.store.clock(), force=request.query.get("force") == "true",
                                       subresource=target.subresource,
                                       status_subresource="status" in rt.subresources)
                except ssa.ApplyConflict as err:
                    raise _conflict_error(rt.group, rt.plural, target.name, err) from err
                merged = self._prepare_new(target, merged)
                merged["metadata"]["name"] = target.name
                if live is None:
                    defaults.apply_defaults(rt, merged)
                    validation.validate(rt, None, merged)
                    return Response(201, self.store.create(rt, merged, dry_run=request.dry_run, fresh=True))
                if rv := (body.get("metadata") or {}).get("resourceVersion"):
                    merged["metadata"]["resourceVersion"] = rv
                defaults.apply_defaults(rt, merged)
                validation.validate(rt, live, merged)
                return Response(200, self.store.update(rt, merged, dry_run=request.dry_run, fresh=True))
        patcher = _PATCHERS.get(request.content_type)
        if patcher is None:
            raise errors.unsupported_media_type(request.content_type)
        with self.store.lock:
            live = self.store.get(rt, target.namespace, target.name)
            try:
                patched = patcher(clone(live), body)
            except PatchError as err:
                raise errors.ApiError(422, "Invalid", str(err)) from err
            if not isinstance(patched, dict):
                raise errors.bad_request("the patch did not produce an object")
            # a patch is unconditional unless its body names a resourceVersion (then it is a precondition)
            if not (isinstance(body, dict) and (body.get("metadata") or {}).get("resourceVersion")):
                patched.setdefault("metadata", {}).pop("resourceVersion", None)
            return Response(200, self._write(target, live, patched, request, manager=self._manager(request)))

    def write_scale(self, target: Target, request: Request) -> Obj:
        """`kubectl scale`: a Scale written (PUT) or patched becomes spec.replicas of the workload."""
        rt = target.rt
        body = json_body(request, allow_list=request.content_type == "application/json-patch+json")
        with self.store.lock:
            live = self.store.get(rt, target.namespace, target.name)
            if request.method == "PUT":
                scale = body
            else:
                patcher = _PATCHERS.get(request.content_type)
                if patcher is None:
                    raise errors.unsupported_media_type(request.content_type)
                scale = patcher(scale_view(live), body)
            replicas = (scale.get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or replicas < 0:
                raise errors.invalid("Scale", "autoscaling", target.name,
                                     [("spec.replicas", f"Invalid value: {replicas!r}: must be a non-negative integer")])
            new = clone(live)
            new.setdefault("spec", {})["replicas"] = replicas
            new["metadata"].pop("resourceVersion", None)
            written = self._write(Target(rt, target.namespace, target.name), live, new, request,
                                  manager=self._manager(request))
            return scale_view(written)

    def delete(self, target: Target, request: Request, options: dict[str, Any]) -> Obj:
        preconditions = options.get("preconditions") or {}
        dry_run = request.dry_run or "All" in (options.get("dryRun") or [])
        orphan = (options.get("propagationPolicy") or request.query.get("propagationPolicy")) == "Orphan"
        with self.store.lock:
            gone = self.store.delete(target.rt, target.namespace, target.name, dry_run=dry_run,
                                     precondition_rv=preconditions.get("resourceVersion") or "",
                                     precondition_uid=preconditions.get("uid") or "")
            if not dry_run and not orphan and not gone["metadata"].get("deletionTimestamp"):
                self.collect_dependents(gone["metadata"]["uid"])
        return gone

    def collect_dependents(self, owner_uid: str) -> None:
        """Delete what named the deleted owner in ownerReferences (the garbage collector's job)."""
        for rt in self.discovery.types():
            items, _ = self.store.list(rt, None, lambda o: any(
                ref.get("uid") == owner_uid for ref in (o.get("metadata") or {}).get("ownerReferences") or []))
            for obj in items:
                meta = obj["metadata"]
                try:
                    gone = self.store.delete(rt, meta.get("namespace", ""), meta["name"])
                except errors.ApiError:
                    continue
                self.collect_dependents(gone["metadata"]["uid"])

    def delete_collection(self, target: Target, request: Request) -> Response:
        items, rv = self.store.list(target.rt, target.namespace or None, selection(request))
        gone = [self.delete(Target(target.rt, o["metadata"].get("namespace", ""), o["metadata"]["name"]), request, {})
                for o in items]
        return Response(200, {"kind": f"{target.rt.kind}List", "apiVersion": target.rt.api_version,
                              "metadata": {"resourceVersion": rv}, "items": gone})


def _conflict_error(group: str, plural: str, name: str, err: ssa.ApplyConflict) -> errors.ApiError:
    causes = [{"type": "FieldManagerConflict", "message": c.message(), "field": pathstr(c.path)}
              for c in err.conflicts]
    details: dict[str, Any] = {"name": name, "kind": plural, "causes": causes}
    if group:
        details["group"] = group
    return errors.ApiError(409, "Conflict", str(err), details)
