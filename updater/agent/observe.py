"""Step 1 of a pass, observe: one app's desired state (source + render) and live state, read at once.

`observe` asks for the branch tip, the stored inventory and the lists of the kinds the app used last
time concurrently; only kinds new in this commit are listed after the render. Every list is one
label-selected request per kind (never one GET per object); `Lister` remembers, per app and kind,
when a cluster-wide list was forbidden (an agent bound by Roles) and lists per namespace from then
on. Reads only: nothing here writes to the cluster.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from concurrent.futures import Executor, Future
from dataclasses import dataclass

from updater.agent.client import KubeClient, KubeForbidden, Resource
from updater.agent.desired import DesiredCache
from updater.agent.inventory import Inventory, from_configmap, inventory_name
from updater.agent.objects import APP_LABEL, Obj, ObjectKey, key_of
from updater.agent.settings import AppSettings
from updater.agent.source import Source

log = logging.getLogger("updater.agent")
CONFIGMAP = Resource("v1", "ConfigMap", "configmaps", namespaced=True)

Kind = tuple[str, str]  # (group, kind)


@dataclass(frozen=True)
class Observed:
    """One app's desired and live state, as read at the start of a pass."""

    commit: str
    desired: tuple[Obj, ...]  # marked manifests, namespaces filled in
    keys: tuple[ObjectKey, ...]  # of `desired`, in the same order
    live: Mapping[ObjectKey, Obj]  # the app's labelled objects of every kind it uses or used
    previous: Inventory | None  # the stored inventory (None: first pass, or unreadable)
    notes: tuple[str, ...] = ()  # documents the render ignored, and why


class Lister:
    """Label-selected lists of one kind, cluster-wide or, when that is forbidden for an app confined
    to namespaces, one per allowed namespace (remembered, so the forbidden list is tried once)."""

    def __init__(self, client: KubeClient) -> None:
        self.client = client
        self._role_bound: set[tuple[str, str]] = set()  # (app, kind) listed per namespace

    def labelled(self, app: AppSettings, resource: Resource, selector: str) -> list[Obj]:
        per_namespace = resource.namespaced and bool(app.allowed_namespaces)
        if not (per_namespace and (app.name, resource.kind) in self._role_bound):
            try:
                return self.client.list(resource, label_selector=selector)
            except KubeForbidden:
                if not per_namespace:
                    raise
                log.info("%s: listing %s cluster-wide is forbidden; listing in %s instead",
                         app.name, resource.plural, ", ".join(app.allowed_namespaces))
                self._role_bound.add((app.name, resource.kind))
        return [obj for namespace in app.allowed_namespaces
                for obj in self.client.list(resource, namespace=namespace, label_selector=selector)]

    def start(self, app: AppSettings, kinds: Mapping[Kind, str], pool: Executor,
              started: Mapping[Kind, Future[list[Obj]]]) -> dict[Kind, Future[list[Obj]]]:
        """Start one list of the app's objects per kind not listed yet."""
        lists = dict(started)
        for (group, kind), version in kinds.items():
            if (group, kind) in lists:
                continue
            resource = self.client.resource(version, kind)  # here, not in a worker: discovery is not shared
            if resource is not None:  # None: a CRD not installed yet, so nothing of that kind exists
                lists[(group, kind)] = pool.submit(self.labelled, app, resource, f"{APP_LABEL}={app.name}")
        return lists


def observe(app: AppSettings, *, source: Source, desired: DesiredCache, lister: Lister, pool: Executor,
            namespace: str) -> Observed:
    """Desired and live state of `app`; raises the named error of the first read that fails."""
    client = lister.client
    started = time.monotonic()
    tip = pool.submit(source.tip)
    stored = pool.submit(client.get, CONFIGMAP, inventory_name(app.name), namespace=namespace)
    before = desired.current
    lists = lister.start(app, before.kinds() if before else {}, pool, {})
    wanted = desired.prepare(tip.result(), source.checkout(tip.result()))
    prepared = time.monotonic()
    previous = from_configmap(app.name, stored.result())
    kinds = wanted.kinds()
    for version, key in previous.entries if previous else ():
        kinds.setdefault((key.group, key.kind), version)
    lists = lister.start(app, kinds, pool, lists)
    live = {key_of(item): item for kind in kinds for item in (lists[kind].result() if kind in lists else [])}
    log.debug("app %s: observed in %.3fs (tip and render %.3f, list %.3f)", app.name,
              time.monotonic() - started, prepared - started, time.monotonic() - prepared)
    return Observed(wanted.commit, wanted.objects, wanted.keys, live, previous, wanted.notes)
