"""Just enough OpenAPI v3 for kubectl: the index of group-versions (`/openapi/v3`) and, per
group-version, a PATCH operation for each kind that declares the `fieldValidation` parameter.

kubectl reads these only to learn whether the server validates fields itself; when it does,
kubectl sends `fieldValidation=Strict` and skips client-side schema checks. No schemas are served
(the emulator does not validate field names), and `/openapi/v2` is a 404, which kubectl tolerates
once v3 answers. Pure.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from updater_sandbox.kube.discovery import Discovery, ResourceType

_PARAM = {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": True},
          "description": "Strict, Warn or Ignore: how to treat unknown or duplicate fields."}


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def _object_path(rt: ResourceType) -> str:
    scope = "namespaces/{namespace}/" if rt.namespaced else ""
    return f"/{_gv_path(rt.group, rt.version)}/{scope}{rt.plural}/{{name}}"


def group_version_document(discovery: Discovery, group: str, version: str) -> dict[str, Any] | None:
    types = [rt for rt in discovery.types() if (rt.group, rt.version) == (group, version)]
    if not types:
        return None
    paths = {
        _object_path(rt): {"patch": {
            "operationId": f"patch{rt.kind}",
            "x-kubernetes-action": "patch",
            "x-kubernetes-group-version-kind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
            "parameters": [_PARAM],
            "responses": {"200": {"description": "OK"}},
        }}
        for rt in types
    }
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes (updater sandbox)", "version": "v1.33.0"},
            "paths": paths, "components": {"schemas": {}}}


def index_document(discovery: Discovery) -> dict[str, Any]:
    paths = {}
    for group, versions in discovery.group_versions().items():
        for version in versions:
            document = group_version_document(discovery, group, version)
            digest = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:32].upper()
            paths[_gv_path(group, version)] = {"serverRelativeURL": f"/openapi/v3/{_gv_path(group, version)}?hash={digest}"}
    return {"paths": paths}


def document_for_path(discovery: Discovery, path: str) -> dict[str, Any] | None:
    """The document served at `/openapi/v3...`, or None (404)."""
    rest = path.removeprefix("/openapi/v3").strip("/")
    if not rest:
        return index_document(discovery)
    parts = rest.split("/")
    if parts[0] == "api" and len(parts) == 2:
        return group_version_document(discovery, "", parts[1])
    if parts[0] == "apis" and len(parts) == 3:
        return group_version_document(discovery, parts[1], parts[2])
    return None
