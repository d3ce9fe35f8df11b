"""The reconcile loop: observe → render → plan → (diff | apply → prune) → health → report, per app.

`Agent.sync_app` is one pass for one app and returns its `AppStatus`; `Agent.dry_run_app` prints a
diff per object instead of changing anything; `Agent.run` repeats the passes every app's interval (or
at once on a webhook), behind the leader Lease when asked. This is the only module that wires the
others together; every decision lives in the pure modules it calls.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

from updater.agent import apply as applier
from updater.agent.client import KubeClient, KubeError, KubeNotFound, Resource
from updater.agent.diff import ObjectDiff, object_diff
from updater.agent.health import Health, app_health, object_health
from updater.agent.inventory import Inventory, from_configmap, from_objects, inventory_name, to_configmap
from updater.agent.leader import LeaderElector
from updater.agent.objects import APP_LABEL, Obj, ObjectKey, group_of, is_crd, key_of, mark
from updater.agent.plan import SyncPlan, make_plan
from updater.agent.render import RenderError, render_tree
from updater.agent.report import OUT_OF_SYNC, SYNCED, AppStatus, CommitStatuses, commit_state, event_for
from updater.agent.server import Metrics
from updater.agent.settings import AgentSettings, AppSettings
from updater.agent.source import Source
from updater.errors import OutOfSync, UpdaterError

log = logging.getLogger("updater.agent")
CONFIGMAP = Resource("v1", "ConfigMap", "configmaps", namespaced=True)
EVENT = Resource("v1", "Event", "events", namespaced=True)


@dataclass(frozen=True)
class Observed:
    """One app's desired and live state, as read at the start of a pass."""

    commit: str
    desired: list[Obj]  # marked manifests, namespaces filled in
    keys: list[ObjectKey]  # of `desired`, in the same order
    live: dict[ObjectKey, Obj]
    previous: Inventory | None
    plan: SyncPlan
    notes: tuple[str, ...]


class Agent:
    def __init__(self, settings: AgentSettings, client: KubeClient, *, env: Mapping[str, str],
                 statuses: Mapping[str, CommitStatuses | None] | None = None, out: TextIO | None = None) -> None:
        self.settings = settings
        self.client = client
        self.out = out or sys.stdout  # looked up now, not at import: tests and pipes swap it
        self.metrics = Metrics(settings.cluster)
        self.wake = threading.Event()
        self.statuses = dict(statuses or {})
        self.sources = {
            app.name: Source(app.repo, app.branch, cache_dir=settings.cache_dir / app.name,
                             token=env.get(app.token_env) if app.token_env else None)
            for app in settings.apps
        }
        self._desired: dict[str, tuple[str, list[Obj], list[ObjectKey], tuple[str, ...]]] = {}
        self._clean: dict[str, frozenset[tuple[str, str, str]]] = {}
        self._reported: dict[str, tuple[str, str, str]] = {}
        self.errors: dict[str, UpdaterError] = {}  # why an app's last pass stopped before applying
        self.last_round = time.monotonic()

    # --- one app ---------------------------------------------------------------------------
    def observe(self, app: AppSettings) -> Observed:
        source = self.sources[app.name]
        tree = source.checkout(source.tip())
        commit = source.checked_out or ""
        cached = self._desired.get(app.name)
        if cached is None or cached[0] != commit:  # render, scope and mark once per commit
            rendered = render_tree(tree, app.path)  # nothing is kept from a failed render
            desired = [mark(obj, app=app.name) for obj in self._scoped(app, rendered.objects)]
            cached = (commit, desired, [key_of(obj) for obj in desired], rendered.notes)
            self._desired[app.name] = cached
        _, desired, keys, notes = cached
        previous = from_configmap(app.name, self.client.get(CONFIGMAP, inventory_name(app.name),
                                                            namespace=self.settings.namespace))
        live = self._list_live(app, desired, previous)
        plan = make_plan(desired, live, previous, app=app.name, prune=app.prune,
                         allow_empty_prune=app.allow_empty_prune, allowed_namespaces=app.allowed_namespaces,
                         clean=self._clean.get(app.name, ()))
        self._clean[app.name] = plan.clean
        return Observed(commit, desired, keys, live, previous, plan, (*notes, *plan.notes))

    def sync_app(self, app: AppSettings) -> AppStatus:
        started = time.monotonic()
        self.errors.pop(app.name, None)
        try:
            seen = self.observe(app)
        except UpdaterError as err:
            self.errors[app.name] = err
            status = AppStatus(app.name, self.sources[app.name].checked_out, OUT_OF_SYNC,
                               Health.DEGRADED.value, errors=(str(err),), duration=time.monotonic() - started)
            log.error("app %s: sync stopped, nothing applied or pruned: %s", app.name, err)
            return self._report(app, status, None)
        changes = applier.apply_steps(self.client, seen.plan.steps, self.client.resource, self_heal=app.self_heal)
        pruned: list[ObjectKey] = []
        failed = list(changes.failed)
        if seen.plan.prune.delete and not failed:
            versions = seen.previous.api_version if seen.previous else (lambda key: None)
            pruned, prune_failed = applier.prune(self.client, seen.plan.prune.delete, versions, self.client.resource)
            failed.extend(prune_failed)
        now_live = {**seen.live, **changes.results}
        health = app_health([object_health(now_live[key]).health for key in seen.keys if key in now_live])
        drifted = tuple(str(k) for k in seen.plan.drifted)
        status = AppStatus(
            app.name, seen.commit,
            SYNCED if not failed and not changes.unhealed else OUT_OF_SYNC,
            health.value,
            applied=tuple(f"{key} {action}" for key, action in changes.applied),
            pruned=tuple(str(k) for k in pruned),
            drifted=drifted,
            errors=tuple(message for _, message in failed),
            notes=seen.notes, objects=len(seen.desired), duration=time.monotonic() - started,
        )
        kept = _kept_entries(seen, set(pruned))
        return self._report(app, status, from_objects(app.name, seen.desired).entries + kept, seen.previous)

    def dry_run_app(self, app: AppSettings) -> list[ObjectDiff]:
        """Every change a sync would make, as a diff per object (printed); nothing is written."""
        seen = self.observe(app)
        for note in seen.notes:
            log.info("app %s: %s", app.name, note)
        diffs: list[ObjectDiff] = []
        for step in seen.plan.steps:
            resource = self.client.resource(step.obj["apiVersion"], step.obj["kind"])
            if resource is None:  # its CRD is in the same render and not installed yet
                diffs.append(object_diff(step.key, None, step.obj))  # type: ignore[arg-type]
                continue
            meta = step.obj["metadata"]
            live = step.live or self.client.get(resource, meta["name"], namespace=meta.get("namespace"))
            try:
                merged = self.client.apply(resource, step.obj, dry_run=True)
            except KubeNotFound:  # its namespace is created by this same sync
                merged = step.obj
            found = object_diff(step.key, live, merged)
            if found:
                diffs.append(found)
        for key in seen.plan.prune.delete:
            found = object_diff(key, seen.live[key], None)
            if found:
                diffs.append(found)
        for found in diffs:
            self.out.write(f"# {found.action} {found.key} (app {app.name})\n{found.text}")
        self.out.flush()
        return diffs

    # --- many apps, many times -------------------------------------------------------------
    def run_once(self) -> int:
        if self.settings.dry_run:
            out_of_sync = [app.name for app in self.settings.apps if self.dry_run_app(app)]
            if out_of_sync:
                raise OutOfSync(f"out of sync: {', '.join(out_of_sync)} (diff on stdout)")
            log.info("in sync: %s", ", ".join(app.name for app in self.settings.apps))
            return 0
        statuses = [self.sync_app(app) for app in self.settings.apps]
        failed = [s for s in statuses if s.errors]
        if failed:
            if failed[0].app in self.errors:
                raise self.errors[failed[0].app]
            raise _SyncFailed(f"app {failed[0].app}: {failed[0].errors[0]}")
        return 0

    def run(self, stop: threading.Event, elector: LeaderElector | None = None) -> None:
        due = {app.name: 0.0 for app in self.settings.apps}
        while not stop.is_set():
            now = time.monotonic()
            self.last_round = now
            triggered = self.wake.is_set()
            self.wake.clear()  # before syncing: a webhook arriving meanwhile starts the next round at once
            leading = elector is None or _safe_acquire(elector)
            for app in self.settings.apps:
                if leading and (due[app.name] <= now or triggered):
                    self.sync_app(app)
                    due[app.name] = time.monotonic() + app.interval
            wait = min(due.values()) - time.monotonic()
            if elector is not None:
                wait = min(wait, elector.lease_seconds / 3)
            self.wake.wait(max(0.05, wait))
        if elector is not None:
            elector.release()

    # --- helpers ---------------------------------------------------------------------------
    def _scoped(self, app: AppSettings, objects: tuple[Obj, ...]) -> list[Obj]:
        """Namespaced objects get the app's namespace when they name none; cluster-scoped lose it."""
        crd_scopes = {(obj["spec"]["group"], obj["spec"]["names"]["kind"]): obj["spec"].get("scope") == "Namespaced"
                      for obj in objects if is_crd(key_of(obj)) and isinstance(obj.get("spec"), dict)}
        default = app.namespace or self.client.config.namespace
        scoped = []
        for obj in objects:
            resource = self.client.resource(obj["apiVersion"], obj["kind"])
            namespaced = resource.namespaced if resource else crd_scopes.get((group_of(obj["apiVersion"]), obj["kind"]))
            if namespaced is None:
                raise RenderError(f"{key_of(obj)}: the API has no {obj['kind']} in {obj['apiVersion']} and no "
                                  "CustomResourceDefinition in the render declares it")
            meta = dict(obj["metadata"])
            if namespaced:
                meta.setdefault("namespace", default)
            else:
                meta.pop("namespace", None)
            scoped.append({**obj, "metadata": meta})
        return scoped

    def _list_live(self, app: AppSettings, desired: list[Obj], previous: Inventory | None) -> dict[ObjectKey, Obj]:
        """The app's live objects: one list call per kind (label-selected), never one GET per object."""
        kinds: dict[tuple[str, str], str] = {}
        for obj in desired:
            kinds.setdefault((group_of(obj["apiVersion"]), obj["kind"]), obj["apiVersion"])
        for version, key in previous.entries if previous else ():
            kinds.setdefault((key.group, key.kind), version)
        live: dict[ObjectKey, Obj] = {}
        for (_, kind), version in sorted(kinds.items()):
            resource = self.client.resource(version, kind)
            if resource is None:
                continue  # a CRD not installed yet: nothing of that kind can exist
            for item in self.client.list(resource, label_selector=f"{APP_LABEL}={app.name}"):
                live[key_of(item)] = item
        return live

    def _report(self, app: AppSettings, status: AppStatus,
                entries: tuple[tuple[str, ObjectKey], ...] | None, previous: Inventory | None = None) -> AppStatus:
        log.info("%s", status.summary())
        self.metrics.record(status)
        try:
            if self._store(app, status, entries, previous):  # an Event per change, not per pass
                event = event_for(status, namespace=self.settings.namespace, inventory=inventory_name(app.name),
                                  cluster=self.settings.cluster, now=time.time())
                if event:
                    self.client.create(EVENT, event)
        except KubeError as err:
            log.warning("app %s: status not stored in the cluster: %s", app.name, err)
        self._post_commit_status(app, status)
        return status

    def _store(self, app: AppSettings, status: AppStatus, entries: tuple[tuple[str, ObjectKey], ...] | None,
               previous: Inventory | None) -> bool:
        """Write the inventory (and status) only when it changed: a quiet sync writes nothing."""
        name, namespace = inventory_name(app.name), self.settings.namespace
        if entries is None:  # failed before planning: keep the stored objects, update the status only
            current = self.client.get(CONFIGMAP, name, namespace=namespace)
            previous = from_configmap(app.name, current)
            entries = previous.entries if previous else ()
        inventory = Inventory(app.name, entries, status.stored())
        if previous is not None and previous.entries == inventory.entries and previous.status == inventory.status:
            return False
        self.client.apply(CONFIGMAP, to_configmap(inventory, namespace=namespace))
        return True

    def _post_commit_status(self, app: AppSettings, status: AppStatus) -> None:
        poster = self.statuses.get(app.name)
        if poster is None or not status.commit:
            return
        state, description = commit_state(status, cluster=self.settings.cluster)
        if self._reported.get(app.name) == (status.commit, state, description):
            return
        poster.post(status.commit, state=state, description=description, context=f"updater/{self.settings.cluster}")
        self._reported[app.name] = (status.commit, state, description)


class _SyncFailed(UpdaterError):
    """`--once`: an app could not be synced; the message is its first error."""

    exit_code = KubeError.exit_code


def _kept_entries(seen: Observed, pruned: set[ObjectKey]) -> tuple[tuple[str, ObjectKey], ...]:
    """Previous entries that stay in the inventory: not desired any more, but not deleted either
    (prune off or failed), and still live — so a later prune can still find them."""
    if seen.previous is None:
        return ()
    desired = set(seen.keys)
    return tuple((version, key) for version, key in seen.previous.entries
                 if key not in desired and key not in pruned and key in seen.live)


def _safe_acquire(elector: LeaderElector) -> bool:
    try:
        return elector.try_acquire()
    except KubeError as err:
        log.warning("leader election: %s", err)
        return False
