"""What the API server checks before it stores an object: a valid name, the kind and namespace
matching the URL, workload selectors matching their templates, and immutable fields (workload
selectors, Job templates, Service clusterIP, immutable ConfigMaps/Secrets). Pure.

Schemas are not checked: unknown or mistyped fields are stored as sent.
"""

from __future__ import annotations

import re
from typing import Any

from updater_sandbox.kube import errors
from updater_sandbox.kube.discovery import ResourceType

_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
_WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"}


def check_identity(rt: ResourceType, obj: dict[str, Any], *, namespace: str, name: str = "") -> None:
    """The body names this kind, and (when the URL names one) the same object and namespace."""
    if obj.get("apiVersion") != rt.api_version or obj.get("kind") != rt.kind:
        raise errors.bad_request(
            f"the API version in the data ({obj.get('apiVersion')}) and kind ({obj.get('kind')}) do not match "
            f"the resource {rt.plural} of {rt.api_version} ({rt.kind})")
    meta = obj.get("metadata") or {}
    if name and meta.get("name") and meta["name"] != name:
        raise errors.bad_request(f"the name of the object ({meta['name']}) does not match the name on the URL ({name})")
    if rt.namespaced and meta.get("namespace") and namespace and meta["namespace"] != namespace:
        raise errors.bad_request("the namespace of the provided object does not match the namespace sent on the request")


def validate(rt: ResourceType, old: dict[str, Any] | None, new: dict[str, Any]) -> None:
    name = new["metadata"].get("name", "")
    causes: list[tuple[str, str]] = []
    if not name:
        causes.append(("metadata.name", "Required value: name or generateName is required"))
    elif len(name) > 253 or not _NAME_RE.match(name):
        causes.append(("metadata.name", f"Invalid value: {name!r}: a lowercase RFC 1123 subdomain must consist of "
                                        "lower case alphanumeric characters, '-' or '.'"))
    spec = new.get("spec") or {}
    if rt.kind in _WORKLOADS:
        template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        selector = (spec.get("selector") or {}).get("matchLabels") or {}
        if not spec.get("selector"):
            causes.append(("spec.selector", "Required value"))
        elif any(template_labels.get(k) != v for k, v in selector.items()):
            causes.append(("spec.template.metadata.labels",
                           f"Invalid value: {template_labels}: `selector` does not match template `labels`"))
        if old is not None and (old.get("spec") or {}).get("selector") != spec.get("selector"):
            causes.append(("spec.selector", f"Invalid value: {spec.get('selector')}: field is immutable"))
    if rt.kind == "Job" and old is not None:
        for field in ("selector", "template"):
            if (old.get("spec") or {}).get(field) != spec.get(field):
                causes.append((f"spec.{field}", "Invalid value: field is immutable"))
    if rt.kind in ("ConfigMap", "Secret") and old is not None and old.get("immutable"):
        if any(old.get(f) != new.get(f) for f in ("data", "binaryData", "stringData")):
            causes.append(("data", "Forbidden: field is immutable when `immutable` is set"))
    if rt.kind == "Service" and old is not None:
        before = (old.get("spec") or {}).get("clusterIP")
        if before and spec.get("clusterIP") not in (before, None):
            causes.append(("spec.clusterIP", f"Invalid value: {spec.get('clusterIP')!r}: field is immutable"))
    if causes:
        raise errors.invalid(rt.kind, rt.group, name, causes)
