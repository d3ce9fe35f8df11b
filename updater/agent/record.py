"""Step 4 of a pass, record: what one pass came to, told everywhere it is read.

`status_of` (pure) turns a `SyncResult` into the app's `AppStatus`. `Recorder.record` logs it, counts
it in the metrics, writes the inventory ConfigMap (objects and status) and an Event only when they
changed (a quiet pass writes nothing), and posts the forge commit status once per (commit, state).
Recording never fails a pass: a failure to store is logged as a warning, a commit status the forge
did not take as one error line per app and cause (not every pass), and the next pass tries again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

from updater.agent.client import KubeClient, Resource
from updater.agent.inventory import Inventory, from_configmap, inventory_name, to_configmap
from updater.agent.observe import CONFIGMAP
from updater.agent.report import OUT_OF_SYNC, SYNCED, AppStatus, CommitStatuses, commit_state, event_for
from updater.agent.server import Metrics
from updater.agent.sync import Entries, SyncResult
from updater.secrets import mask

log = logging.getLogger("updater.agent")
EVENT = Resource("v1", "Event", "events", namespaced=True)


def status_of(app: str, result: SyncResult, *, notes: tuple[str, ...], objects: int, duration: float) -> AppStatus:
    """The app's status after a pass of `objects` desired objects (0 when it stopped early)."""
    return AppStatus(
        app, result.commit, SYNCED if result.in_sync else OUT_OF_SYNC, result.health.value,
        applied=tuple(f"{key} {action}" for key, action in result.applied),
        pruned=tuple(str(k) for k in result.pruned),
        drifted=tuple(str(k) for k in result.drifted),
        errors=result.errors,
        notes=notes,
        objects=objects,
        duration=duration,
    )


class Recorder:
    def __init__(self, client: KubeClient, *, namespace: str, cluster: str, metrics: Metrics,
                 statuses: Mapping[str, CommitStatuses | None]) -> None:
        self.client = client
        self.namespace = namespace  # the agent's: inventories and events live there
        self.cluster = cluster
        self.metrics = metrics
        self.statuses = dict(statuses)
        self._reported: dict[str, tuple[str, str, str]] = {}  # app -> the last commit status posted
        self._failed: dict[str, str] = {}  # app -> why its last post failed (logged once)

    def record(self, status: AppStatus, inventory: Entries | None, previous: Inventory | None) -> None:
        """Report `status`; `inventory` None keeps the stored objects (the pass stopped early)."""
        log.info("%s", status.summary(), extra={"fields": {
            "app": status.app, "commit": status.commit, "sync": status.sync, "health": status.health,
            "applied": len(status.applied), "pruned": len(status.pruned), "drifted": len(status.drifted),
            "errors": list(status.errors), "duration_s": round(status.duration, 3)}})
        self.metrics.record(status)
        try:
            if self._store(status, inventory, previous):  # an Event per change, not per pass
                event = event_for(status, namespace=self.namespace, inventory=inventory_name(status.app),
                                  cluster=self.cluster, now=time.time())
                if event:
                    self.client.create(EVENT, event)
        except Exception as err:  # noqa: BLE001 - any failure here is only "not stored this time"
            log.warning("app %s: status not stored in the cluster: %s", status.app, err)
        try:
            self._post_commit_status(status)
        except Exception as err:  # noqa: BLE001 - a forge being down never fails a sync
            # one error line per app and cause (a refused token stays refused every pass: say it once);
            # the status is not marked posted, so the next pass tries again
            text = mask(" ".join(str(err).split()))
            if self._failed.get(status.app) != text:
                log.error("app %s: commit status not posted: %s", status.app, text)
            self._failed[status.app] = text
        else:
            self._failed.pop(status.app, None)

    def _store(self, status: AppStatus, entries: Entries | None, previous: Inventory | None) -> bool:
        """Write the inventory (and status) only when it changed: a quiet sync writes nothing."""
        name = inventory_name(status.app)
        if entries is None:  # failed before planning: keep the stored objects, update the status only
            previous = from_configmap(status.app, self.client.get(CONFIGMAP, name, namespace=self.namespace))
            entries = previous.entries if previous else ()
        inventory = Inventory(status.app, entries, status.stored())
        if previous is not None and previous.entries == inventory.entries and previous.status == inventory.status:
            return False
        self.client.apply(CONFIGMAP, to_configmap(inventory, namespace=self.namespace))
        return True

    def _post_commit_status(self, status: AppStatus) -> None:
        poster = self.statuses.get(status.app)
        if poster is None or not status.commit:
            return
        state, description = commit_state(status, cluster=self.cluster)
        if self._reported.get(status.app) == (status.commit, state, description):
            return
        poster.post(status.commit, state=state, description=description, context=f"updater/{self.cluster}")
        self._reported[status.app] = (status.commit, state, description)
