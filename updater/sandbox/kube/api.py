"""The API operations behind the HTTP edge: one `Request` in, one `Response` out.

get / list / watch / create / update / patch (apply, merge, strategic-merge, json) / delete /
deletecollection on any resource the discovery table knows, plus the discovery documents. Writes go
through validation and defaults (`validation`), `managedFields` bookkeeping (`ssa`) and the store;
`dryRun=All` runs all of it and persists nothing. Store hooks keep CRDs, namespaces and owner
references consistent (see `hooks`). No sockets here: `server` does the HTTP.
"""

from __future__ import annotations

import copy
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from updater.sandbox.kube import errors, routes, selectors, ssa, tables, validation
from updater.sandbox.kube.discovery import Discovery
from updater.sandbox.kube.fieldsets import pathstr
from updater.sandbox.kube.patches import PatchError, json_patch, merge_patch, strategic_merge_patch
from updater.sandbox.kube.routes import DiscoveryPath, Target
from updater.sandbox.kube.store import Obj, Store
from updater.sandbox.kube.watch import watch_stream

APPLY = "application/apply-patch+yaml"
_PATCHERS = {
    "application/merge-patch+json": merge_patch,
    "application/strategic-merge-patch+json": strategic_merge_patch,
    "application/json-patch+json": json_patch,
}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip()

    @property
    def dry_run(self) -> bool:
        return self.query.get("dryRun") == "All"


@dataclass(frozen=True)
class Response:
    code: int
    body: Any = None
    stream: Iterator[bytes] | None = None
    content_type: str = "application/json"


@dataclass(frozen=True)
class Operation:
    """What a request did, for the request log: a Kubernetes verb and the resource it addressed."""

    verb: str
    group: str = ""
    resource: str = ""
    namespace: str = ""
    name: str = ""
    subresource: str = ""


@dataclass
class KubeApi:
    store: Store
    discovery: Discovery
    stopping: Any = None  # threading.Event that ends open watches
    watch_timeout: float = 30.0

    def operation(self, request: Request) -> Operation:
        target = routes.parse(request.path, self.discovery)
        if not isinstance(target, Target):
            known = target is not None or request.path.startswith(("/openapi", "/version"))
            return Operation("discovery" if known else "unknown", name=request.path)
        verb = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(
            request.method, request.method.lower())
        if not target.name:
            verb = {"get": "watch" if request.query.get("watch") in ("1", "true") else "list",
                    "delete": "deletecollection"}.get(verb, verb)
        if verb == "patch" and request.content_type == APPLY:
            verb = "apply"
        rt = target.rt
        return Operation(verb, rt.group, rt.plural, target.namespace, target.name, target.subresource)

    def handle(self, request: Request) -> Response:
        try:
            target = routes.parse(request.path, self.discovery)
            if target is None:
                raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
            if isinstance(target, DiscoveryPath):
                return self._discovery(target, request)
            return self._resource(target, request)
        except errors.ApiError as err:
            return Response(err.code, err.status())

    # -- discovery ------------------------------------------------------------------------------
    def _discovery(self, target: DiscoveryPath, request: Request) -> Response:
        accept = request.headers.get("accept", "")
        if target.version is None and target.group in (None, "") or (target.core and target.version is None):
            if "as=APIGroupDiscoveryList" in accept:
                return Response(200, self.discovery.aggregated_document(core=target.core),
                                content_type="application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
            return Response(200, self.discovery.core_versions_document() if target.core
                            else self.discovery.groups_document())
        if target.version is None:
            document = self.discovery.group_document(target.group or "")
            if not document["versions"]:
                raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
            return Response(200, document)
        resources = self.discovery.resource_list_document(target.group or "", target.version)
        if resources is None:
            raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
        return Response(200, resources)

    # -- resources ------------------------------------------------------------------------------
    def _resource(self, target: Target, request: Request) -> Response:
        method = request.method
        if method == "GET" and target.name:
            obj = self.store.get(target.rt, target.namespace, target.name)
            return self._shaped(target, request, [obj], single=True)
        if method == "GET":
            return self._list(target, request)
        if method == "POST" and not target.name:
            return Response(201, self.create(target, _json_body(request), request))
        if method == "PUT" and target.name:
            return Response(200, self.update(target, _json_body(request), request))
        if target.subresource == "scale" and method in ("PUT", "PATCH"):
            return Response(200, self._write_scale(target, request))
        if method == "PATCH" and target.name:
            return self.patch(target, request)
        if method == "DELETE" and target.name:
            options = json.loads(request.body) if request.body.strip() else {}
            return Response(200, self.delete(target, request, options))
        if method == "DELETE":
            return self._delete_collection(target, request)
        raise errors.method_not_allowed(f"{method} is not supported on {request.path}")

    def _list(self, target: Target, request: Request) -> Response:
        try:
            labels = selectors.label_selector(request.query.get("labelSelector", ""))
            fields = selectors.field_selector(request.query.get("fieldSelector", ""))
        except ValueError as err:
            raise errors.bad_request(str(err)) from err

        def match(obj: Obj) -> bool:
            return labels(obj) and fields(obj)

        if request.query.get("watch") in ("1", "true"):
            return Response(200, stream=watch_stream(
                self.store, target.rt, target.namespace, match, request.query.get("resourceVersion", ""),
                float(request.query.get("timeoutSeconds") or self.watch_timeout), self.stopping,
                initial_events=request.query.get("sendInitialEvents") == "true"))
        items, rv = self.store.list(target.rt, target.namespace or None, match)
        limit, start = int(request.query.get("limit") or 0), int(request.query.get("continue") or 0)
        more = ""
        if limit:
            more = str(start + limit) if start + limit < len(items) else ""
            items = items[start:start + limit]
        return self._shaped(target, request, items, single=False, rv=rv, more=more)

    def _shaped(self, target: Target, request: Request, items: list[Obj], *, single: bool, rv: str = "",
                more: str = "") -> Response:
        rt = target.rt
        if target.subresource == "scale":
            return Response(200, _scale(items[0]))
        if "as=Table" in request.headers.get("accept", ""):
            return Response(200, tables.table(rt, items, rv or self.store.resource_version,
                                              request.query.get("includeObject", "Metadata")),
                            content_type="application/json;as=Table;v=v1;g=meta.k8s.io")
        if single:
            return Response(200, items[0])
        meta: dict[str, Any] = {"resourceVersion": rv}
        if more:
            meta["continue"] = more
        return Response(200, {"kind": f"{rt.kind}List", "apiVersion": rt.api_version, "metadata": meta,
                              "items": items})

    # -- writes ---------------------------------------------------------------------------------
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
        validation.apply_defaults(rt, obj)
        validation.validate(rt, None, obj)
        obj = ssa.record_update(None, obj, manager=self._manager(request), api_version=rt.api_version,
                                now=self.store.clock())
        return self.store.create(rt, obj, dry_run=request.dry_run)

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
        validation.apply_defaults(rt, new)
        validation.validate(rt, live, new)
        new = ssa.record_update(live, new, manager=manager, api_version=rt.api_version, now=self.store.clock(),
                                subresource=target.subresource)
        return self.store.update(rt, new, dry_run=request.dry_run)

    def patch(self, target: Target, request: Request) -> Response:
        rt = target.rt
        body = _json_body(request, allow_list=request.content_type == "application/json-patch+json")
        if request.content_type == APPLY:
            manager = self._manager(request, required=True)
            validation.check_identity(rt, body, namespace=target.namespace, name=target.name)
            with self.store.lock:
                live = self.store.peek(rt, target.namespace, target.name)
                live = copy.deepcopy(live)
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
                    validation.apply_defaults(rt, merged)
                    validation.validate(rt, None, merged)
                    return Response(201, self.store.create(rt, merged, dry_run=request.dry_run))
                if rv := (body.get("metadata") or {}).get("resourceVersion"):
                    merged["metadata"]["resourceVersion"] = rv
                validation.apply_defaults(rt, merged)
                validation.validate(rt, live, merged)
                return Response(200, self.store.update(rt, merged, dry_run=request.dry_run))
        patcher = _PATCHERS.get(request.content_type)
        if patcher is None:
            raise errors.unsupported_media_type(request.content_type)
        with self.store.lock:
            live = self.store.get(rt, target.namespace, target.name)
            try:
                patched = patcher(copy.deepcopy(live), body)
            except PatchError as err:
                raise errors.ApiError(422, "Invalid", str(err)) from err
            if not isinstance(patched, dict):
                raise errors.bad_request("the patch did not produce an object")
            # a patch is unconditional unless its body names a resourceVersion (then it is a precondition)
            if not (isinstance(body, dict) and (body.get("metadata") or {}).get("resourceVersion")):
                patched.setdefault("metadata", {}).pop("resourceVersion", None)
            return Response(200, self._write(target, live, patched, request, manager=self._manager(request)))

    def _write_scale(self, target: Target, request: Request) -> Obj:
        """`kubectl scale`: a Scale written (PUT) or patched becomes spec.replicas of the workload."""
        rt = target.rt
        body = _json_body(request, allow_list=request.content_type == "application/json-patch+json")
        with self.store.lock:
            live = self.store.get(rt, target.namespace, target.name)
            if request.method == "PUT":
                scale = body
            else:
                patcher = _PATCHERS.get(request.content_type)
                if patcher is None:
                    raise errors.unsupported_media_type(request.content_type)
                scale = patcher(_scale(live), body)
            replicas = (scale.get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or replicas < 0:
                raise errors.invalid("Scale", "autoscaling", target.name,
                                     [("spec.replicas", f"Invalid value: {replicas!r}: must be a non-negative integer")])
            new = copy.deepcopy(live)
            new.setdefault("spec", {})["replicas"] = replicas
            new["metadata"].pop("resourceVersion", None)
            written = self._write(Target(rt, target.namespace, target.name), live, new, request,
                                  manager=self._manager(request))
            return _scale(written)

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

    def _delete_collection(self, target: Target, request: Request) -> Response:
        labels = selectors.label_selector(request.query.get("labelSelector", ""))
        items, rv = self.store.list(target.rt, target.namespace or None, labels)
        gone = [self.delete(Target(target.rt, o["metadata"].get("namespace", ""), o["metadata"]["name"]), request, {})
                for o in items]
        return Response(200, {"kind": f"{target.rt.kind}List", "apiVersion": target.rt.api_version,
                              "metadata": {"resourceVersion": rv}, "items": gone})


def _json_body(request: Request, *, allow_list: bool = False) -> Any:
    try:
        body = json.loads(request.body or b"null")
    except ValueError as err:
        raise errors.bad_request(
            f"the request body is not JSON ({err}); this emulator accepts JSON bodies only (YAML is a superset: "
            "send JSON with any content type)") from err
    if not isinstance(body, dict) and not (allow_list and isinstance(body, list)):
        raise errors.bad_request("the request body must be a JSON object")
    return body


def _conflict_error(group: str, plural: str, name: str, err: ssa.ApplyConflict) -> errors.ApiError:
    causes = [{"type": "FieldManagerConflict", "message": c.message(), "field": pathstr(c.path)}
              for c in err.conflicts]
    details: dict[str, Any] = {"name": name, "kind": plural, "causes": causes}
    if group:
        details["group"] = group
    return errors.ApiError(409, "Conflict", str(err), details)


def _scale(obj: Obj) -> Obj:
    meta = obj["metadata"]
    selector = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {k: meta.get(k) for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")},
            "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 0)},
            "status": {"replicas": (obj.get("status") or {}).get("replicas", 0),
                       "selector": ",".join(f"{k}={v}" for k, v in selector.items())}}
