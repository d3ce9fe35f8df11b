"""The reconcile loop: per app, observe → plan → sync → record, then schedule the next pass.

Each step is a module of its own and returns a value (`observe.Observed`, `decide.Planned`,
`sync.SyncResult`, `report.AppStatus`); this module only sequences them, keeps what one pass leaves
for the next (checkouts, parsed files, the drift check's memory) and runs the passes every app's
interval (or at once on a webhook), behind the leader Lease when asked.

One app's pass can never stop another app or the process: any exception it raises — a named error,
or a RecursionError, MemoryError or plain bug from a hostile manifest — becomes that app's error
(Degraded, with the reason) and the loop goes on. `--dry-run` prints a diff per object instead.

Between observe and plan, the operator's policy (`policy_gate`) checks every rendered object; while
the loop runs, watches (`watch`) see manual changes at once and either heal them on the spot
(`heal`) or wake the loop. Several clusters are several `Agent`s (`clusters.Fleet`).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol, TextIO

from updater.agent.client import KubeClient, KubeError
from updater.agent.decide import Planned, plan_pass
from updater.agent.desired import DesiredCache
from updater.agent.diff import ObjectDiff
from updater.agent.heal import FastHeal
from updater.agent.objects import Obj, ObjectKey
from updater.agent.observe import Lister, Observed, observe
from updater.agent.policy_gate import Gate, PolicyViolation, configmap_loader
from updater.agent.preview import preview
from updater.agent.record import Recorder, status_of
from updater.agent.report import AppStatus, CommitStatuses
from updater.agent.schedule import Schedule
from updater.agent.server import Metrics
from updater.agent.settings import AgentSettings, AppSettings
from updater.agent.source import Source
from updater.agent.sync import SyncResult, sync
from updater.agent.watch import DriftWatch
from updater.errors import ExitCode, OutOfSync, UpdaterError
from updater.secrets import mask

log = logging.getLogger("updater.agent")
# requests in flight at once (lists, applies of one kind rank): 12 kept the emulator busy while the
# agent encodes and decodes (2,000 applies 15-20% faster than with 6; 24 no faster); the client keeps
# at least as many connections alive
IO_WORKERS = 12


class Leadership(Protocol):
    """What the loop needs of leader election: a `LeaderElector`, or a fleet's shared view of one."""

    lease_seconds: float

    def try_acquire(self) -> bool: ...

    def release(self) -> None: ...


class PassFailed(UpdaterError):
    """An app's pass raised something no step expected (a bug, or a manifest built to break us)."""

    exit_code = ExitCode.UNEXPECTED


class Agent:
    def __init__(self, settings: AgentSettings, client: KubeClient, *, env: Mapping[str, str],
                 statuses: Mapping[str, CommitStatuses | None] | None = None, out: TextIO | None = None) -> None:
        self.settings = settings
        self.client = client
        self.out = out or sys.stdout  # looked up now, not at import: tests and pipes swap it
        self.metrics = Metrics(settings.cluster)
        self.wake = threading.Event()
        self.sources = {
            app.name: Source(app.repo, app.branch, cache_dir=settings.cache_dir / app.name,
                             token=env.get(app.token_env) if app.token_env else None)
            for app in settings.apps
        }
        self.recorder = Recorder(client, namespace=settings.namespace, cluster=settings.cluster,
                                 metrics=self.metrics, statuses=statuses or {})
        self._desired = {app.name: DesiredCache(app=app.name, path=app.path, resolve=client.resource,
                                                default_namespace=app.namespace or client.config.namespace,
                                                identities=settings.sops_identities,
                                                kustomize_remote=app.kustomize_remote)
                         for app in settings.apps}
        self._pool = ThreadPoolExecutor(max_workers=IO_WORKERS, thread_name_prefix="agent-io")
        self._lister = Lister(client)
        self._clean: dict[str, frozenset[tuple[str, str, str]]] = {}  # app -> objects found equal to git
        self.heal = FastHeal(client, namespace=settings.namespace, cluster=settings.cluster)
        # the operator's policy; a fleet points the ConfigMap loader at the cluster the agent runs in
        self.gate = Gate(settings.policy, configmap_loader(client, settings.policy_configmap,
                                                           namespace=settings.namespace)
                         if settings.policy_configmap else None)
        self.last_round = time.monotonic()

    # --- one app ---------------------------------------------------------------------------
    def sync_app(self, app: AppSettings) -> AppStatus:
        """One pass for `app`; never raises (the status carries its errors)."""
        return self._pass(app)[0]

    def _pass(self, app: AppSettings) -> tuple[AppStatus, SyncResult]:
        with self.heal.passing:  # no heal at once while a pass may apply a newer commit
            return self._one_pass(app)

    def _one_pass(self, app: AppSettings) -> tuple[AppStatus, SyncResult]:
        started = time.monotonic()
        seen: Observed | None = None
        try:
            seen, planned = self._plan(app)
            result = sync(self.client, seen, planned, self_heal=app.self_heal, pool=self._pool)
            notes = (*seen.notes, *planned.notes)
        except Exception as err:  # noqa: BLE001 - see the module docstring: one app never stops the others
            result, seen, notes = self._stopped(app, err), None, ()
        status = status_of(app.name, result, notes=notes, objects=len(seen.desired) if seen else 0,
                           duration=time.monotonic() - started)
        self.recorder.record(status, result.inventory, seen.previous if seen else None)
        if app.self_heal and seen is not None and not result.errors:  # what a watch event may heal at once
            self.heal.remember(app.name, seen.commit, dict(zip(seen.keys, seen.desired, strict=True)))
        else:
            self.heal.forget(app.name)
        return status, result

    def _plan(self, app: AppSettings) -> tuple[Observed, Planned]:
        seen = observe(app, source=self.sources[app.name], desired=self._desired[app.name], lister=self._lister,
                       pool=self._pool, namespace=self.settings.namespace)
        self.gate.enforce(app.name, seen.desired)  # before planning: a violation applies nothing of the app
        planned = plan_pass(app, seen, lister=self._lister, clean=self._clean.get(app.name, ()))
        self._clean[app.name] = planned.plan.clean
        return seen, planned

    def _stopped(self, app: AppSettings, err: Exception) -> SyncResult:
        checked_out = self.sources[app.name].checked_out
        if isinstance(err, UpdaterError):
            log.error("app %s: sync stopped, nothing applied or pruned: %s", app.name, err)
            return SyncResult.stopped(checked_out, err)
        reason = mask(" ".join(str(err).split()))[:300] or "no message"
        log.error("app %s: the pass stopped on an unexpected %s (the other apps go on)", app.name,
                  type(err).__name__, exc_info=err)
        failed = PassFailed(f"app {app.name}: the pass stopped on an unexpected {type(err).__name__}: {reason}")
        failed.__cause__ = err
        return SyncResult.stopped(checked_out, failed)

    def dry_run_app(self, app: AppSettings) -> list[ObjectDiff]:
        """Every change a sync would make, as a diff per object (printed); nothing is written."""
        try:
            seen, planned = self._plan(app)
        except PolicyViolation as err:
            for violation in err.violations:
                self.out.write(f"# refused by policy (app {app.name}): {violation}\n")
            self.out.flush()
            raise
        for note in (*seen.notes, *planned.notes):
            log.info("app %s: %s", app.name, note)
        diffs = preview(self.client, seen, planned)
        for found in diffs:
            self.out.write(f"# {found.action} {found.key} (app {app.name})\n{found.text}")
        self.out.flush()
        return diffs

    def desired_objects(self, app: str) -> dict[ObjectKey, Obj]:
        """The objects `app` declared at its last rendered commit (empty before its first pass)."""
        current = self._desired[app].current
        return dict(zip(current.keys, current.objects, strict=True)) if current is not None else {}

    def _on_watch(self, app: str, event_type: str, obj: Obj) -> None:
        """A foreign change to one of `app`'s objects: healed at once, or a pass of this cluster now."""
        if app in self.sources and not self.heal.try_heal(app, event_type, obj):
            self.wake.set()

    def watched_kinds(self) -> dict[tuple[str, str], str]:
        """(group, kind) -> apiVersion of every kind the apps rendered last: what the watches cover."""
        return {kind: version for cache in self._desired.values() if cache.current is not None
                for kind, version in cache.current.kinds().items()}

    # --- many apps, many times -------------------------------------------------------------
    def run_once(self) -> int:
        if self.settings.dry_run:
            refused: list[PolicyViolation] = []
            out_of_sync = [app.name for app in self.settings.apps if _previewed(self, app, refused)]
            if refused:
                raise refused[0]
            if out_of_sync:
                raise OutOfSync(f"out of sync: {', '.join(out_of_sync)} (diff on stdout)")
            log.info("in sync: %s", ", ".join(app.name for app in self.settings.apps))
            return 0
        passes = [self._pass(app) for app in self.settings.apps]
        failed = [(status, result) for status, result in passes if status.errors]
        if failed:
            status, result = failed[0]
            if result.error is not None:
                raise result.error
            raise _SyncFailed(f"app {status.app}: {status.errors[0]}")
        return 0

    def run(self, stop: threading.Event, elector: Leadership | None = None) -> None:
        schedule = Schedule(self.settings.apps)
        if self.settings.watch:  # drift seen at once; the interval stays the fallback
            DriftWatch(self.client, self.watched_kinds, self._on_watch, stop=stop).start()
        lease = elector.lease_seconds if elector is not None else None
        while not stop.is_set():
            self.last_round = time.monotonic()
            triggered = self.wake.is_set()
            self.wake.clear()  # before syncing: a webhook arriving meanwhile starts the next round at once
            leading = elector is None or _safe_acquire(elector)
            self.heal.enabled = leading  # a standby (or a leader that lost the Lease) heals nothing
            for app in schedule.due(self.last_round, triggered=triggered) if leading else ():
                self.sync_app(app)
                schedule.done(app, time.monotonic())
            self.wake.wait(schedule.wait(time.monotonic(), lease_seconds=lease, leading=leading))
        if elector is not None:
            elector.release()


def _previewed(agent: Agent, app: AppSettings, refused: list[PolicyViolation]) -> bool:
    """`--dry-run` of one app: True when it would change; a policy refusal is kept for the end, so
    the other apps are still previewed."""
    try:
        return bool(agent.dry_run_app(app))
    except PolicyViolation as err:
        refused.append(err)
        return True


class _SyncFailed(UpdaterError):
    """`--once`: an app could not be synced; the message is its first error."""

    exit_code = KubeError.exit_code


def _safe_acquire(elector: Leadership) -> bool:
    try:
        return elector.try_acquire()
    except KubeError as err:
        log.warning("leader election: %s", err)
        return False
