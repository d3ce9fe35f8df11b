"""The fast path of self-heal: undo a manual edit the moment its watch event arrives.

A full pass (git tip, render, a list per kind, plan) costs about a second with 2,000 objects; a
drifted object needs none of it when the manifest it should match is already known. `FastHeal`
keeps, per app with self-heal, the objects its last pass applied or found in sync (after the policy
gate and the namespace checks passed), and on a foreign MODIFIED event of one of them re-applies
that manifest — only when the cheap plan rules call it "drifted" (same desired hash, a declared field
changed), so a live object from another commit, a delete or anything unsure is left to a full pass,
which the caller then starts. A heal is reported like a pass's: an Event `Drift` on the app's
inventory and a log line.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping

from updater.agent.client import KubeClient, KubeError
from updater.agent.inventory import inventory_name
from updater.agent.objects import Obj, ObjectKey, key_of
from updater.agent.plan import step_reason
from updater.agent.report import SYNCED, AppStatus, event_for
from updater.agent.record import EVENT

log = logging.getLogger("updater.agent")


class FastHeal:
    def __init__(self, client: KubeClient, *, namespace: str, cluster: str) -> None:
        self.client = client
        self.namespace = namespace  # the agent's: where the Events go
        self.cluster = cluster
        self._known: dict[str, tuple[str, Mapping[ObjectKey, Obj]]] = {}  # app -> (commit, key -> manifest)
        # key -> resourceVersion our heal wrote: older events of that object (queued behind the edit,
        # e.g. a controller's status write) describe a state already undone
        self._healed: dict[ObjectKey, int] = {}
        self._lock = threading.Lock()
        # held by the loop during a pass: a heal never races a pass that may be applying a newer commit
        self.passing = threading.Lock()
        self.enabled = True  # False while this replica does not hold the leader Lease

    def remember(self, app: str, commit: str, objects: Mapping[ObjectKey, Obj]) -> None:
        """The manifests `app` is in sync with after a pass that applied them (self-heal apps only)."""
        with self._lock:
            self._known[app] = (commit, objects)

    def forget(self, app: str) -> None:
        """After a pass that stopped or failed: until a good pass, every event goes to a full pass."""
        with self._lock:
            self._known.pop(app, None)

    def try_heal(self, app: str, event_type: str, live: Obj) -> bool:
        """True when the event's drift was undone here; False: leave it to a full pass."""
        if not self.enabled or not self.passing.acquire(blocking=False):
            return False  # a pass is running: the one the caller starts next sees the drift
        try:
            return self._heal(app, event_type, live)
        finally:
            self.passing.release()

    def _heal(self, app: str, event_type: str, live: Obj) -> bool:
        with self._lock:
            commit, objects = self._known.get(app, ("", {}))
        desired = objects.get(key_of(live)) if event_type == "MODIFIED" else None
        if desired is None or step_reason(desired, live) != "drifted":
            return False
        key = key_of(live)
        if _version(live) < self._healed.get(key, -1):
            return True  # an event from before our heal: nothing left to do
        resource = self.client.resource(desired["apiVersion"], desired["kind"])
        if resource is None:
            return False
        try:
            self._healed[key] = _version(self.client.apply(resource, desired))
        except KubeError as err:
            log.warning("app %s: healing %s at once failed (%s); a full pass follows", app, key, err)
            return False
        log.info("app %s: %s drifted and was healed at once (commit %s)", app, key, commit[:12])
        status = AppStatus(app, commit, SYNCED, "Healthy", applied=(f"{key} configured",), drifted=(str(key),))
        event = event_for(status, namespace=self.namespace, inventory=inventory_name(app), cluster=self.cluster,
                          now=time.time())
        try:
            if event is not None:
                self.client.create(EVENT, event)
        except KubeError as err:
            log.warning("app %s: drift Event not stored: %s", app, err)
        return True


def _version(obj: Obj) -> int:
    """resourceVersion as a number (etcd's revision; -1 when it is not one, so nothing is skipped)."""
    try:
        return int((obj.get("metadata") or {}).get("resourceVersion") or -1)
    except ValueError:
        return -1
