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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TextIO

from updater.agent import apply as applier
from updater.agent.client import KubeClient, KubeError, KubeForbidden, KubeNotFound, Resource
from updater.agent.desired import DesiredCache
from updater.agent.diff import ObjectDiff, object_diff
from updater.agent.health import Health, app_health, object_health
from updater.agent.inventory import Inventory, from_configmap, from_objects, inventory_name, to_configmap
from updater.agent.leader import LeaderElector
from updater.agent.objects import APP_LABEL, Obj, ObjectKey, key_of
from updater.agent.plan import SyncPlan, make_plan, plan_version, refuse_foreign
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
    refused: tuple[tuple[ObjectKey, str], ...] = ()  # objects another app owns: not applied, an error


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
        self._desired = {app.name: DesiredCache(app=app.name, path=app.path, resolve=client.resource,
                                                default_namespace=app.namespace or client.config.namespace,
                                                kustomize_remote=app.kustomize_remote)
                         for app in settings.apps}
        self._pool = ThreadPoolExecutor(max_workers=6, thread_name_prefix="agent-io")
        self._role_bound: set[tuple[str, str]] = set()  # (app, kind) listed per namespace (cluster list forbidden)
        self._clean: dict[str, frozenset[tuple[str, str, str]]] = {}
        self._reported: dict[str, tuple[str, str, str]] = {}
        self.errors: dict[str, UpdaterError] = {}  # why an app's last pass stopped before applying
        self.last_round = time.monotonic()

    # --- one app ---------------------------------------------------------------------------
    def observe(self, app: AppSettings) -> Observed:
        """Desired and live state. The branch tip, the inventory and the lists of the kinds the app
        used last time are asked for at once; only kinds new in this commit are listed after."""
        source = self.sources[app.name]
        started = time.monotonic()
        tip = self._pool.submit(source.tip)
        stored = self._pool.submit(self.client.get, CONFIGMAP, inventory_name(app.name),
                                   namespace=self.settings.namespace)
        before = self._desired[app.name].current
        lists = self._list_kinds(app, before.kinds() if before else {}, {})
        desired = self._desired[app.name].prepare(tip.result(), source.checkout(tip.result()))
        prepared = time.monotonic()
        previous = from_configmap(app.name, stored.result())
        kinds = desired.kinds()
        for version, key in previous.entries if previous else ():
            kinds.setdefault((key.group, key.kind), version)
        lists = self._list_kinds(app, kinds, lists)
        live = {key_of(item): item for kind in kinds for item in (lists[kind].result() if kind in lists else [])}
        listed = time.monotonic()
        plan = make_plan(list(desired.objects), live, previous, app=app.name, prune=app.prune,
                         allow_empty_prune=app.allow_empty_prune, allowed_namespaces=app.allowed_namespaces,
                         allowed_cluster_kinds=app.allowed_cluster_kinds, clean=self._clean.get(app.name, ()))
        plan = self._confirm_drift(plan)
        self._clean[app.name] = plan.clean
        plan, refused = refuse_foreign(plan, self._foreign_owners(app, plan), app=app.name)
        log.debug("app %s: observed in %.3fs (tip and render %.3f, list %.3f, plan %.3f)", app.name,
                  time.monotonic() - started, prepared - started, listed - prepared, time.monotonic() - listed)
        return Observed(desired.commit, list(desired.objects), list(desired.keys), live, previous, plan,
                        (*desired.notes, *plan.notes), refused)

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
        changes = applier.apply_steps(self.client, seen.plan.steps, self.client.resource, self_heal=app.self_heal,
                                      pool=self._pool)
        pruned: list[ObjectKey] = []
        failed = [*seen.refused, *changes.failed]
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
        diffs.extend(ObjectDiff(key, "refuse", f"{message}\n") for key, message in seen.refused)
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
            if elector is not None:  # renew well before the Lease runs out; a standby just retries
                wait = min(wait, elector.lease_seconds / 3) if leading else elector.lease_seconds / 3
            self.wake.wait(max(0.05, wait))
        if elector is not None:
            elector.release()

    # --- helpers ---------------------------------------------------------------------------
    def _list_kinds(self, app: AppSettings, kinds: Mapping[tuple[str, str], str],
                    started: dict[tuple[str, str], Future[list[Obj]]]) -> dict[tuple[str, str], Future[list[Obj]]]:
        """Start one label-selected list per kind not listed yet (never one GET per object)."""
        lists = dict(started)
        for (group, kind), version in kinds.items():
            if (group, kind) in lists:
                continue
            resource = self.client.resource(version, kind)  # here, not in a worker: discovery is not shared
            if resource is not None:  # None: a CRD not installed yet, so nothing of that kind exists
                lists[(group, kind)] = self._pool.submit(self._list_labelled, app, resource,
                                                         f"{APP_LABEL}={app.name}")
        return lists

    def _list_labelled(self, app: AppSettings, resource: Resource, selector: str) -> list[Obj]:
        """Objects of one kind matching `selector`: one cluster-wide list, or, for an agent bound by
        Roles to the app's allowed namespaces (the cluster-wide list is forbidden), one per namespace."""
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

    def _confirm_drift(self, plan: SyncPlan) -> SyncPlan:
        """Ask the server about each object the cheap check calls drifted: when a server-side apply
        dry-run of the manifest leaves the live object as it is, the difference was the server's own
        normalisation (quantities, defaults), not drift; the object is then remembered as clean."""
        false_alarms = []
        for step in plan.steps:
            if step.reason != "drifted" or step.live is None:
                continue
            resource = self.client.resource(step.obj["apiVersion"], step.obj["kind"])
            try:
                merged = self.client.apply(resource, step.obj, dry_run=True) if resource else None
            except KubeError:
                continue  # cannot confirm: keep it as drift, the apply will say what is wrong
            if merged is not None and object_diff(step.key, step.live, merged) is None:
                false_alarms.append(step)
        if not false_alarms:
            return plan
        versions = {plan_version(step.live, step.obj) for step in false_alarms if step.live is not None}
        return replace(plan, steps=tuple(s for s in plan.steps if s not in false_alarms),
                       unchanged=plan.unchanged + len(false_alarms), clean=plan.clean | versions)

    def _foreign_owners(self, app: AppSettings, plan: SyncPlan) -> dict[ObjectKey, str]:
        """Owners of the objects this pass would create that are labelled for another app: one extra
        list per kind, and only when something is to be created (never in a quiet pass)."""
        kinds = {(step.key.group, step.key.kind): step.obj["apiVersion"] for step in plan.steps if step.reason == "missing"}
        owners: dict[ObjectKey, str] = {}
        for (_, kind), version in kinds.items():
            resource = self.client.resource(version, kind)
            if resource is not None:
                # `!=` also selects objects without the label: those are never adopted either
                for item in self._list_labelled(app, resource, f"{APP_LABEL}!={app.name}"):
                    owners[key_of(item)] = ((item["metadata"].get("labels") or {}).get(APP_LABEL) or "")
        return owners

    def _report(self, app: AppSettings, status: AppStatus,
                entries: tuple[tuple[str, ObjectKey], ...] | None, previous: Inventory | None = None) -> AppStatus:
        log.info("%s", status.summary(), extra={"fields": {
            "app": status.app, "commit": status.commit, "sync": status.sync, "health": status.health,
            "applied": len(status.applied), "pruned": len(status.pruned), "drifted": len(status.drifted),
            "errors": list(status.errors), "duration_s": round(status.duration, 3)}})
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
