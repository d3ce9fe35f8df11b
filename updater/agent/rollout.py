"""Health from fresh reads: after an apply, and while `--once --wait` waits for rollouts to finish.

An apply's response is the object as written, before any controller has looked at it: its status is
the old one (or none), so health judged from it is stale. `reread` reads the applied workloads again
(one label-selected list per kind, a GET when the kind has one object or listing is forbidden);
`wait_healthy` polls an app's declared workloads until none is Progressing or the time is up. Reads
only; a read that fails leaves the object as it was (the caller's last known state).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from updater.agent.client import KubeClient, KubeError, KubeForbidden
from updater.agent.health import Health, app_health, object_health
from updater.agent.objects import APP_LABEL, Obj, ObjectKey, key_of, labels

log = logging.getLogger("updater.agent")

# Kinds whose health a controller writes after the apply; the others are judged from what was applied.
WORKLOADS = {("apps", "Deployment"), ("apps", "StatefulSet"), ("apps", "DaemonSet"), ("batch", "Job")}


def reread(client: KubeClient, objects: Mapping[ObjectKey, Obj]) -> dict[ObjectKey, Obj]:
    """The current state of the workloads among `objects` (others are left out)."""
    by_kind: dict[tuple[str, str], list[tuple[ObjectKey, Obj]]] = {}
    for key, obj in objects.items():
        if (key.group, key.kind) in WORKLOADS:
            by_kind.setdefault((obj.get("apiVersion", ""), key.kind), []).append((key, obj))
    fresh: dict[ObjectKey, Obj] = {}
    for (version, kind), items in by_kind.items():
        try:
            fresh.update(_read_kind(client, version, kind, items))
        except KubeError as err:
            log.debug("fresh read of %s failed, health from the apply response: %s", kind, err)
    return fresh


def _read_kind(client: KubeClient, version: str, kind: str, items: list[tuple[ObjectKey, Obj]]) -> dict[ObjectKey, Obj]:
    resource = client.resource(version, kind)
    if resource is None:
        return {}
    wanted = {key for key, _ in items}
    owners = {labels(obj).get(APP_LABEL) for _, obj in items}
    if len(items) > 1 and len(owners) == 1 and None not in owners:
        try:
            listed = client.list(resource, label_selector=f"{APP_LABEL}={owners.pop()}")
            return {key_of(obj): obj for obj in listed if key_of(obj) in wanted}
        except KubeForbidden:
            pass  # an agent bound by Roles: one GET per object instead
    found = {}
    for key, _ in items:
        obj = client.get(resource, key.name, namespace=key.namespace or None)
        if obj is not None:
            obj.setdefault("apiVersion", version)
            obj.setdefault("kind", kind)
            found[key] = obj
    return found


@dataclass(frozen=True)
class Waited:
    """The app's health when the wait ended, and what was still not done (object: reason)."""

    health: Health
    pending: tuple[str, ...]
    seconds: float


def wait_healthy(client: KubeClient, objects: Mapping[ObjectKey, Obj], *, timeout: float, poll: float = 0.5,
                 clock: Callable[[], float] = time.monotonic) -> Waited:
    """Poll the workloads among `objects` until no object is Progressing, or `timeout` seconds."""
    started = clock()
    while True:
        current = {**objects, **reread(client, objects)}
        judged = {key: object_health(obj) for key, obj in current.items()}
        health = app_health([h.health for h in judged.values()])
        pending = tuple(f"{key}: {h.reason or h.health.value}" for key, h in judged.items()
                        if h.health is not Health.HEALTHY)
        if health is not Health.PROGRESSING or clock() - started >= timeout:
            return Waited(health, pending, clock() - started)
        time.sleep(poll)
