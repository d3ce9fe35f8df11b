"""The API behind the HTTP edge: one `Request` in, one `Response` out.

Routes a request to the discovery documents, the reads (get / list / watch, as objects, lists or
kubectl's Tables) or the writes (`writes`), on any resource the discovery table knows, and names
the operation for the request log. No sockets here: `server` does the HTTP.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from updater_sandbox.kube import errors, routes, tables
from updater_sandbox.kube.discovery import Discovery
from updater_sandbox.kube.routes import DiscoveryPath, Target
from updater_sandbox.kube.store import Obj, Store
from updater_sandbox.kube.watch import watch_stream
from updater_sandbox.kube.wire import APPLY, Operation, Request, Response, json_body, scale_view, selection
from updater_sandbox.kube.writes import Writes


@dataclass
class KubeApi:
    store: Store
    discovery: Discovery
    stopping: threading.Event | None = None  # ends open watches when the server stops
    watch_timeout: float = 30.0
    writes: Writes = field(init=False)

    def __post_init__(self) -> None:
        self.writes = Writes(self.store, self.discovery)

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
        if target.group is None:  # `/api` or `/apis`
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
            obj = self.store.get(target.rt, target.namespace, target.name, copy=False)
            return self._shaped(target, request, [obj], single=True)
        if method == "GET":
            return self._list(target, request)
        writes = self.writes
        if method == "POST" and not target.name:
            return Response(201, writes.create(target, json_body(request), request))
        if method == "PUT" and target.name:
            return Response(200, writes.update(target, json_body(request), request))
        if target.subresource == "scale" and method in ("PUT", "PATCH"):
            return Response(200, writes.write_scale(target, request))
        if method == "PATCH" and target.name:
            return writes.patch(target, request)
        if method == "DELETE" and target.name:
            options = json_body(request) if request.body.strip() else {}
            return Response(200, writes.delete(target, request, options))
        if method == "DELETE":
            return writes.delete_collection(target, request)
        raise errors.method_not_allowed(f"{method} is not supported on {request.path}")

    def _list(self, target: Target, request: Request) -> Response:
        match = selection(request)

        if request.query.get("watch") in ("1", "true"):
            return Response(200, stream=watch_stream(
                self.store, target.rt, target.namespace, match, request.query.get("resourceVersion", ""),
                float(request.query.get("timeoutSeconds") or self.watch_timeout), self.stopping,
                initial_events=request.query.get("sendInitialEvents") == "true"))
        items, rv = self.store.list(target.rt, target.namespace or None, match, copy=False)
        try:  # the continue token is an offset into the sorted list (no snapshot: pages may shift)
            limit, start = int(request.query.get("limit") or 0), int(request.query.get("continue") or 0)
        except ValueError as err:
            raise errors.bad_request(f"invalid limit or continue token: {err}") from err
        more = ""
        if limit:
            more = str(start + limit) if start + limit < len(items) else ""
            items = items[start:start + limit]
        return self._shaped(target, request, items, single=False, rv=rv, more=more)

    def _shaped(self, target: Target, request: Request, items: list[Obj], *, single: bool, rv: str = "",
                more: str = "") -> Response:
        rt = target.rt
        if target.subresource == "scale":
            return Response(200, scale_view(items[0]))
        if "as=Table" in request.headers.get("accept", ""):
            return Response(200, tables.table(rt, items, rv or self.store.resource_version,
                                              request.query.get("includeObject", "Metadata")),
                            content_type="application/json;as=Table;v=v1;g=meta.k8s.io")
        if single:
            return Response(200, self.store.encoded(items[0]))
        meta: dict[str, Any] = {"resourceVersion": rv}
        if more:
            meta["continue"] = more
        head = json.dumps({"kind": f"{rt.kind}List", "apiVersion": rt.api_version, "metadata": meta})
        return Response(200, head[:-1].encode() + b',"items":[' + b",".join(map(self.store.encoded, items)) + b"]}")
