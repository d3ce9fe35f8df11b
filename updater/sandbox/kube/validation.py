"""What the API server checks and fills in before it stores an object: names, the kind matching
the URL, immutable fields, and the handful of defaults that make live objects differ from
manifests (so an agent must diff against a dry-run, not the raw manifest). Pure.

Emulated defaults: Deployment/StatefulSet replicas, revisionHistoryLimit, strategy; container
imagePullPolicy/terminationMessagePath/terminationMessagePolicy; pod restartPolicy/dnsPolicy/
schedulerName; Service type/sessionAffinity/clusterIP(s) and port protocol/targetPort.
Everything else is stored as sent.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from updater.sandbox.kube import errors
from updater.sandbox.kube.discovery import ResourceType

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


def apply_defaults(rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` with the server defaults filled in where absent (mutates and returns it)."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return obj
    if rt.kind in ("Deployment", "StatefulSet", "ReplicaSet"):
        spec.setdefault("replicas", 1)
    if rt.kind in ("Deployment", "StatefulSet", "DaemonSet"):
        spec.setdefault("revisionHistoryLimit", 10)
    if rt.kind == "Deployment":
        spec.setdefault("progressDeadlineSeconds", 600)
        spec.setdefault("strategy", {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
    pod_spec = _pod_spec(rt.kind, spec)
    if pod_spec is not None:
        pod_spec.setdefault("restartPolicy", "Always" if rt.kind not in ("Job", "CronJob") else "Never")
        pod_spec.setdefault("dnsPolicy", "ClusterFirst")
        pod_spec.setdefault("schedulerName", "default-scheduler")
        for container in (pod_spec.get("containers") or []) + (pod_spec.get("initContainers") or []):
            if isinstance(container, dict):
                image = str(container.get("image", ""))
                container.setdefault("imagePullPolicy", "Always" if image.endswith(":latest") or ":" not in image.rsplit("/", 1)[-1] else "IfNotPresent")
                container.setdefault("terminationMessagePath", "/dev/termination-log")
                container.setdefault("terminationMessagePolicy", "File")
                for port in container.get("ports") or []:
                    if isinstance(port, dict):
                        port.setdefault("protocol", "TCP")
    if rt.kind == "Service":
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        if spec["type"] != "ExternalName" and "clusterIP" not in spec:
            spec["clusterIP"] = _cluster_ip(obj)
            spec["clusterIPs"] = [spec["clusterIP"]]
        for port in spec.get("ports") or []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")
                port.setdefault("targetPort", port.get("port"))
    return obj


def _pod_spec(kind: str, spec: dict[str, Any]) -> dict[str, Any] | None:
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    template = spec.get("template")
    if isinstance(template, dict) and isinstance(template.get("spec"), dict):
        return template["spec"]
    return None


def _cluster_ip(obj: dict[str, Any]) -> str:
    """A stable address in 10.96.0.0/16 derived from namespace/name (no allocator to keep in sync)."""
    meta = obj.get("metadata") or {}
    digest = hashlib.sha256(f"{meta.get('namespace')}/{meta.get('name')}".encode()).digest()
    return f"10.96.{digest[0]}.{max(digest[1], 1)}"
