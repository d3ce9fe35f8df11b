"""Leader election with a `coordination.k8s.io/v1` Lease, so two agents never sync at once.

The holder renews `spec.renewTime` each round; another agent takes the Lease over only once
`renewTime + leaseDurationSeconds` has passed. Every write is a PUT guarded by resourceVersion (or a
create), so of two agents racing for an expired Lease exactly one wins and the other gets a 409.
`is_expired` is pure; `LeaderElector` does the requests through `KubeClient`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from updater.agent.client import KubeClient, KubeConflict, Resource
from updater.agent.objects import Obj

log = logging.getLogger("updater.agent")
LEASE = Resource("coordination.k8s.io/v1", "Lease", "leases", namespaced=True)


def micro_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str | None) -> float:
    if not text:
        return 0.0
    text = text.replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return 0.0


def is_expired(spec: dict[str, Any], now: float) -> bool:
    renewed = parse_time(spec.get("renewTime") or spec.get("acquireTime"))
    return renewed + float(spec.get("leaseDurationSeconds") or 0) < now


class LeaderElector:
    def __init__(self, client: KubeClient, *, namespace: str, identity: str, name: str = "updater-agent",
                 lease_seconds: float = 15.0, clock: Callable[[], float] = time.time) -> None:
        self.client = client
        self.namespace = namespace
        self.identity = identity
        self.name = name
        self.lease_seconds = lease_seconds
        self.clock = clock
        self.leading = False

    def try_acquire(self) -> bool:
        """Become or stay the leader if possible; True while this agent leads."""
        now = self.clock()
        lease = self.client.get(LEASE, self.name, namespace=self.namespace)
        try:
            if lease is None:
                self.client.create(LEASE, self._lease(None, now, transitions=0))
                return self._now_leading(True)
            spec = lease.get("spec") or {}
            holder = spec.get("holderIdentity")
            if holder == self.identity:
                self.client.replace(LEASE, self._lease(lease, now, acquired=spec.get("acquireTime")))
                return self._now_leading(True)
            if holder and not is_expired(spec, now):
                return self._now_leading(False)
            transitions = int(spec.get("leaseTransitions") or 0) + (1 if holder else 0)
            self.client.replace(LEASE, self._lease(lease, now, transitions=transitions))
            return self._now_leading(True)
        except KubeConflict:
            return self._now_leading(False)  # another agent wrote first

    def release(self) -> None:
        """Hand the Lease back at shutdown so a standby takes over at once."""
        if not self.leading:
            return
        lease = self.client.get(LEASE, self.name, namespace=self.namespace)
        if lease and (lease.get("spec") or {}).get("holderIdentity") == self.identity:
            lease["spec"]["holderIdentity"] = None
            lease["spec"]["renewTime"] = None
            try:
                self.client.replace(LEASE, lease)
            except KubeConflict:
                pass
        self.leading = False

    def _now_leading(self, leading: bool) -> bool:
        if leading != self.leading:
            log.info("leader election: %s %s the Lease %s/%s", self.identity,
                     "acquired" if leading else "does not hold", self.namespace, self.name)
        self.leading = leading
        return leading

    def _lease(self, current: Obj | None, now: float, *, transitions: int | None = None,
               acquired: str | None = None) -> Obj:
        meta: dict[str, Any] = {"name": self.name, "namespace": self.namespace}
        spec = dict((current or {}).get("spec") or {})
        if current is not None:
            meta["resourceVersion"] = current["metadata"]["resourceVersion"]
        spec.update(holderIdentity=self.identity, leaseDurationSeconds=max(1, round(self.lease_seconds)),
                    acquireTime=acquired or micro_time(now), renewTime=micro_time(now))
        if transitions is not None:
            spec["leaseTransitions"] = transitions
        return {"apiVersion": LEASE.api_version, "kind": "Lease", "metadata": meta, "spec": spec}
