"""Health of live objects and of an app, from their status alone. Pure: no I/O.

Per object: Deployments, StatefulSets and DaemonSets are Healthy when their rollout is complete for
the current generation; Jobs when Complete (Degraded when Failed); anything else by its `Ready`
condition when it has one (`Stalled=True` is Degraded), and Healthy when it reports no conditions.
The app is as healthy as its least healthy object.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from updater.agent.objects import Obj, group_of


class Health(str, Enum):
    HEALTHY = "Healthy"
    PROGRESSING = "Progressing"
    DEGRADED = "Degraded"

    @property
    def rank(self) -> int:
        return (Health.HEALTHY, Health.PROGRESSING, Health.DEGRADED).index(self)


@dataclass(frozen=True)
class ObjectHealth:
    health: Health
    reason: str = ""


def _conditions(obj: Obj) -> dict[str, dict[str, Any]]:
    items = (obj.get("status") or {}).get("conditions") or []
    return {c.get("type", ""): c for c in items if isinstance(c, dict)}


def _observed(obj: Obj) -> bool:
    status = obj.get("status") or {}
    generation = (obj.get("metadata") or {}).get("generation")
    return generation is None or status.get("observedGeneration", 0) >= generation


def _deployment(obj: Obj) -> ObjectHealth:
    status = obj.get("status") or {}
    progressing = _conditions(obj).get("Progressing", {})
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        return ObjectHealth(Health.DEGRADED, f"rollout stuck: {progressing.get('message', '')}".strip())
    if not _observed(obj):
        return ObjectHealth(Health.PROGRESSING, "new generation not yet observed")
    want = (obj.get("spec") or {}).get("replicas", 1)
    updated, available = status.get("updatedReplicas", 0), status.get("availableReplicas", 0)
    if updated < want:
        return ObjectHealth(Health.PROGRESSING, f"{updated}/{want} replicas updated")
    if status.get("replicas", 0) > updated:
        return ObjectHealth(Health.PROGRESSING, "old replicas pending termination")
    if available < want:
        return ObjectHealth(Health.PROGRESSING, f"{available}/{want} replicas available")
    return ObjectHealth(Health.HEALTHY)


def _statefulset(obj: Obj) -> ObjectHealth:
    status = obj.get("status") or {}
    if not _observed(obj):
        return ObjectHealth(Health.PROGRESSING, "new generation not yet observed")
    want = (obj.get("spec") or {}).get("replicas", 1)
    if status.get("updatedReplicas", 0) < want or status.get("readyReplicas", 0) < want:
        return ObjectHealth(Health.PROGRESSING, f"{status.get('readyReplicas', 0)}/{want} replicas ready")
    if status.get("updateRevision") and status.get("currentRevision") != status.get("updateRevision"):
        return ObjectHealth(Health.PROGRESSING, "rolling to the new revision")
    return ObjectHealth(Health.HEALTHY)


def _daemonset(obj: Obj) -> ObjectHealth:
    status = obj.get("status") or {}
    if not _observed(obj):
        return ObjectHealth(Health.PROGRESSING, "new generation not yet observed")
    want = status.get("desiredNumberScheduled", 0)
    if status.get("updatedNumberScheduled", 0) < want or status.get("numberAvailable", 0) < want:
        return ObjectHealth(Health.PROGRESSING, f"{status.get('numberAvailable', 0)}/{want} pods available")
    return ObjectHealth(Health.HEALTHY)


def _job(obj: Obj) -> ObjectHealth:
    conditions = _conditions(obj)
    if conditions.get("Failed", {}).get("status") == "True":
        return ObjectHealth(Health.DEGRADED, conditions["Failed"].get("message") or "job failed")
    if conditions.get("Complete", {}).get("status") == "True":
        return ObjectHealth(Health.HEALTHY)
    return ObjectHealth(Health.PROGRESSING, "job running")


def _generic(obj: Obj) -> ObjectHealth:
    conditions = _conditions(obj)
    if conditions.get("Stalled", {}).get("status") == "True":
        return ObjectHealth(Health.DEGRADED, conditions["Stalled"].get("message") or "stalled")
    ready = conditions.get("Ready")
    if ready is None or ready.get("status") == "True":
        return ObjectHealth(Health.HEALTHY)
    return ObjectHealth(Health.PROGRESSING, ready.get("message") or ready.get("reason") or "not ready")


_RULES = {
    ("apps", "Deployment"): _deployment,
    ("apps", "StatefulSet"): _statefulset,
    ("apps", "DaemonSet"): _daemonset,
    ("batch", "Job"): _job,
}


def object_health(obj: Obj) -> ObjectHealth:
    rule = _RULES.get((group_of(obj.get("apiVersion", "")), obj.get("kind", "")), _generic)
    return rule(obj)


def app_health(healths: list[Health]) -> Health:
    """The worst of the objects' health; an app with no objects is Healthy (nothing to wait for)."""
    return max(healths, key=lambda h: h.rank, default=Health.HEALTHY)
