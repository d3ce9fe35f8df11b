"""The defaults the API server fills in before storing, so live objects differ from manifests the
way they do on a real cluster (and an agent must diff against a dry-run, not the raw manifest).

Per kind: workload replicas/strategies/history limits, Job and CronJob policies, pod-template
restart/DNS/scheduler/grace-period settings, container pull policy and termination message,
port protocols, Service type/affinity/clusterIP/targetPort, Namespace finalizers; Secret
`stringData` is folded into base64 `data`. Everything else is stored as sent. Pure.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any, cast

from updater_sandbox.kube.discovery import ResourceType

_SPEC_DEFAULTS: dict[str, dict[str, Any]] = {
    "Deployment": {"replicas": 1, "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
                   "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}},
    "StatefulSet": {"replicas": 1, "revisionHistoryLimit": 10, "podManagementPolicy": "OrderedReady",
                    "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}},
    "DaemonSet": {"revisionHistoryLimit": 10,
                  "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}},
    "ReplicaSet": {"replicas": 1},
    "Job": {"backoffLimit": 6, "completions": 1, "parallelism": 1, "completionMode": "NonIndexed", "suspend": False},
    "CronJob": {"concurrencyPolicy": "Allow", "suspend": False, "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 1},
    "Service": {"type": "ClusterIP", "sessionAffinity": "None"},
}
_POD_DEFAULTS = {"dnsPolicy": "ClusterFirst", "schedulerName": "default-scheduler", "securityContext": {},
                 "terminationGracePeriodSeconds": 30}


def apply_defaults(rt: ResourceType, obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` with the server defaults filled in where absent (mutates and returns it)."""
    if rt.kind == "Secret":
        _fold_string_data(obj)
    if rt.kind == "Namespace":
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return obj
    for key, value in _SPEC_DEFAULTS.get(rt.kind, {}).items():
        spec.setdefault(key, value if not isinstance(value, dict) else _copy(value))
    pod_spec = _pod_spec(rt.kind, spec)
    if pod_spec is not None:
        _default_pod(pod_spec, restart="Never" if rt.kind in ("Job", "CronJob") else "Always")
    if rt.kind == "Service":
        if spec["type"] != "ExternalName" and "clusterIP" not in spec:
            spec["clusterIP"] = _cluster_ip(obj)
            spec["clusterIPs"] = [spec["clusterIP"]]
        for port in spec.get("ports") or []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")
                port.setdefault("targetPort", port.get("port"))
    return obj


def _copy(value: dict[str, Any]) -> dict[str, Any]:
    return {k: _copy(v) if isinstance(v, dict) else v for k, v in value.items()}


def _default_pod(pod_spec: dict[str, Any], *, restart: str) -> None:
    pod_spec.setdefault("restartPolicy", restart)
    for key, value in _POD_DEFAULTS.items():
        pod_spec.setdefault(key, _copy(value) if isinstance(value, dict) else value)
    for container in (pod_spec.get("containers") or []) + (pod_spec.get("initContainers") or []):
        if not isinstance(container, dict):
            continue
        image = str(container.get("image", ""))
        tag = image.split("@")[0].rsplit("/", 1)[-1]
        untagged_or_latest = "@" not in image and (":" not in tag or tag.endswith(":latest"))
        container.setdefault("imagePullPolicy", "Always" if untagged_or_latest else "IfNotPresent")
        container.setdefault("terminationMessagePath", "/dev/termination-log")
        container.setdefault("terminationMessagePolicy", "File")
        container.setdefault("resources", {})
        for port in container.get("ports") or []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")


def _fold_string_data(secret: dict[str, Any]) -> None:
    """The server stores `stringData` as base64 in `data` (write-only convenience field)."""
    string_data = secret.pop("stringData", None)
    if isinstance(string_data, dict):
        data = secret.setdefault("data", {})
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()
    secret.setdefault("type", "Opaque")


def _pod_spec(kind: str, spec: dict[str, Any]) -> dict[str, Any] | None:
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    template = spec.get("template")
    if isinstance(template, dict) and isinstance(template.get("spec"), dict):
        return cast(dict[str, Any], template["spec"])
    return None


def _cluster_ip(obj: dict[str, Any]) -> str:
    """A stable address in 10.96.0.0/16 derived from namespace/name (no allocator to keep in sync)."""
    meta = obj.get("metadata") or {}
    digest = hashlib.sha256(f"{meta.get('namespace')}/{meta.get('name')}".encode()).digest()
    return f"10.96.{digest[0]}.{max(digest[1], 1)}"
