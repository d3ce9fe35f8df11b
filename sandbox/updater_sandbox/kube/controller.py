"""A stand-in for the workload controllers: it writes the `status` a healthy cluster would show
after rolling a workload out, so health checks (and `kubectl rollout status`) have something real
to read.

Deployments, StatefulSets, DaemonSets and Jobs get status right after each write (under the store
lock, through the `status` subresource, with manager `kube-controller-manager`). Each object's
outcome is a `RolloutMode`, set from Python (`Controller.set_mode`) or by the annotation
`sandbox.updater.dev/rollout: complete|hang|fail` on the object:
  complete  every replica updated and available (Job: Complete)
  hang      the new revision never becomes available (Progressing, no deadline hit; Job stays active)
  fail      as hang, and the progress deadline is exceeded (Deployment Progressing=False
            ProgressDeadlineExceeded; Job Failed)
No pods or ReplicaSets are created: counts are reported, not simulated.
"""

from __future__ import annotations

import hashlib
import json
import threading
from enum import Enum
from typing import Any

from updater_sandbox.kube import ssa
from updater_sandbox.kube.discovery import Discovery, ResourceType
from updater_sandbox.kube.store import Obj, Store

ANNOTATION = "sandbox.updater.dev/rollout"
MANAGER = "kube-controller-manager"


class RolloutMode(str, Enum):
    COMPLETE = "complete"
    HANG = "hang"
    FAIL = "fail"


def _revision(obj: Obj) -> str:
    template = (obj.get("spec") or {}).get("template") or {}
    return hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]


def _condition(kind: str, status: str, reason: str, message: str, previous: dict[str, Any], now: str) -> dict[str, Any]:
    old = previous.get(kind) or {}
    same = old.get("status") == status and old.get("reason") == reason
    return {"type": kind, "status": status, "reason": reason, "message": message,
            "lastUpdateTime": old.get("lastUpdateTime", now) if same else now,
            "lastTransitionTime": old.get("lastTransitionTime", now) if old.get("status") == status else now}


def _nonzero(status: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in status.items() if v not in (0, None, "", [])}


def deployment_status(obj: Obj, mode: RolloutMode, now: str) -> dict[str, Any]:
    name, replicas = obj["metadata"]["name"], (obj.get("spec") or {}).get("replicas", 1)
    old = obj.get("status") or {}
    previous = {c.get("type"): c for c in old.get("conditions") or []}
    rs = f'ReplicaSet "{name}-{_revision(obj)}"'
    if mode is RolloutMode.COMPLETE:
        available = updated = replicas
        progressing = _condition("Progressing", "True", "NewReplicaSetAvailable", f"{rs} has successfully progressed.",
                                 previous, now)
    else:
        updated, available = 0, min(old.get("availableReplicas", 0), replicas)
        progressing = (_condition("Progressing", "False", "ProgressDeadlineExceeded", f"{rs} has timed out progressing.",
                                  previous, now) if mode is RolloutMode.FAIL else
                       _condition("Progressing", "True", "ReplicaSetUpdated", f"{rs} is progressing.", previous, now))
    is_available = available >= replicas or (replicas > 0 and available > 0)
    availability = _condition(
        "Available", "True" if is_available else "False",
        "MinimumReplicasAvailable" if is_available else "MinimumReplicasUnavailable",
        "Deployment has minimum availability." if is_available else "Deployment does not have minimum availability.",
        previous, now)
    return {**_nonzero({"observedGeneration": obj["metadata"].get("generation", 1), "replicas": replicas,
                        "updatedReplicas": updated, "readyReplicas": available, "availableReplicas": available,
                        "unavailableReplicas": max(replicas - available, 0)}),
            "conditions": [availability, progressing]}


def statefulset_status(obj: Obj, mode: RolloutMode) -> dict[str, Any]:
    replicas = (obj.get("spec") or {}).get("replicas", 1)
    old = obj.get("status") or {}
    revision = f"{obj['metadata']['name']}-{_revision(obj)}"
    done = mode is RolloutMode.COMPLETE
    ready = replicas if done else old.get("readyReplicas", 0)
    return {**_nonzero({"readyReplicas": ready, "currentReplicas": replicas if done else old.get("currentReplicas", 0),
                        "updatedReplicas": replicas if done else 0, "availableReplicas": ready}),
            "observedGeneration": obj["metadata"].get("generation", 1), "replicas": replicas,
            "currentRevision": revision if done else old.get("currentRevision", ""), "updateRevision": revision,
            "collisionCount": 0}


def daemonset_status(obj: Obj, mode: RolloutMode) -> dict[str, Any]:
    done = mode is RolloutMode.COMPLETE
    return {"observedGeneration": obj["metadata"].get("generation", 1), "desiredNumberScheduled": 1,
            "currentNumberScheduled": 1, "numberMisscheduled": 0, "numberReady": 1 if done else 0,
            **_nonzero({"updatedNumberScheduled": 1 if done else 0, "numberAvailable": 1 if done else 0,
                        "numberUnavailable": 0 if done else 1})}


def job_status(obj: Obj, mode: RolloutMode, now: str) -> dict[str, Any]:
    old = obj.get("status") or {}
    previous = {c.get("type"): c for c in old.get("conditions") or []}
    start = old.get("startTime", now)
    if mode is RolloutMode.HANG:
        return {"startTime": start, "active": 1}
    if mode is RolloutMode.FAIL:
        return {"startTime": start, "failed": 1, "conditions": [
            _condition("Failed", "True", "BackoffLimitExceeded", "Job has reached the specified backoff limit",
                       previous, now)]}
    completions = (obj.get("spec") or {}).get("completions", 1)
    return {"startTime": start, "completionTime": old.get("completionTime", now), "succeeded": completions,
            "conditions": [_condition("SuccessCriteriaMet", "True", "CompletionsReached", "Reached expected number of succeeded pods", previous, now),
                           _condition("Complete", "True", "CompletionsReached", "Reached expected number of succeeded pods", previous, now)]}


class Controller:
    def __init__(self, store: Store, discovery: Discovery) -> None:
        self.store = store
        self.discovery = discovery
        self.default_mode = RolloutMode.COMPLETE
        self._modes: dict[tuple[str, str, str], RolloutMode] = {}
        self._busy = threading.local()
        store.on_write.append(self._on_write)

    def set_mode(self, kind: str, namespace: str, name: str, mode: RolloutMode | str) -> None:
        """How the rollout of this workload ends from now on; a stored workload's status follows at
        once (so a test can hold a rollout, look at it, then let it complete)."""
        self._modes[(kind, namespace, name)] = RolloutMode(mode)
        with self.store.lock:
            for rt in self.discovery.types():
                if rt.kind == kind and (obj := self.store.peek(rt, namespace, name)) is not None:
                    self.reconcile(rt, obj)
                    return

    def mode_for(self, obj: Obj) -> RolloutMode:
        meta = obj.get("metadata") or {}
        if annotated := (meta.get("annotations") or {}).get(ANNOTATION):
            return RolloutMode(annotated)
        return self._modes.get((obj.get("kind", ""), meta.get("namespace", ""), meta.get("name", "")), self.default_mode)

    def status_for(self, obj: Obj) -> dict[str, Any] | None:
        kind, mode, now = obj.get("kind"), self.mode_for(obj), self.store.clock()
        if kind == "Deployment":
            return deployment_status(obj, mode, now)
        if kind == "StatefulSet":
            return statefulset_status(obj, mode)
        if kind == "DaemonSet":
            return daemonset_status(obj, mode)
        if kind == "Job":
            return job_status(obj, mode, now)
        if kind == "Namespace":
            return {"phase": "Active"}
        return None

    def reconcile(self, rt: ResourceType, obj: Obj) -> None:
        status = self.status_for(obj)
        if status is None or obj.get("status") == status:
            return
        new = ssa.record_update(obj, {**obj, "status": status}, manager=MANAGER, api_version=rt.api_version,
                                now=self.store.clock(), subresource="status")
        self.store.update(rt, new, fresh=True)

    def _on_write(self, rt: ResourceType, old: Obj | None, new: Obj | None) -> None:
        if new is None or getattr(self._busy, "active", False):
            return
        self._busy.active = True
        try:
            self.reconcile(rt, new)
        finally:
            self._busy.active = False
