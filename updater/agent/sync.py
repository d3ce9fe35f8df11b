"""Step 3 of a pass, sync: carry out a plan (apply, then prune) and say what came of it as a value.

`sync` applies the planned objects (`updater.agent.apply`), prunes only when nothing failed, and
judges health from fresh reads of what it applied (`updater.agent.rollout`). Every failure is an entry of
`SyncResult.errors`; a pass that could not get as far as applying (a render error, an unreachable
source or cluster, a hostile manifest) is `SyncResult.stopped(...)`, carrying the error itself, so
the loop never keeps errors as state of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass

from updater.agent import apply as applier
from updater.agent import rollout
from updater.agent.client import KubeClient
from updater.agent.decide import Planned
from updater.agent.health import Health, app_health, object_health
from updater.agent.inventory import from_objects
from updater.agent.objects import ObjectKey
from updater.agent.observe import Observed
from updater.errors import UpdaterError

Entries = tuple[tuple[str, ObjectKey], ...]  # (apiVersion, identity), as the inventory lists them


@dataclass(frozen=True)
class SyncResult:
    commit: str | None
    applied: tuple[tuple[ObjectKey, str], ...] = ()  # (object, "created" | "configured" | "recreated")
    pruned: tuple[ObjectKey, ...] = ()
    drifted: tuple[ObjectKey, ...] = ()  # reported always; healed only with self-heal
    unhealed: tuple[ObjectKey, ...] = ()  # drifted and left alone
    errors: tuple[str, ...] = ()  # one line each: refused, failed to apply or prune, or why it stopped
    health: Health = Health.HEALTHY
    inventory: Entries | None = None  # what the inventory should list now; None: keep the stored one
    error: UpdaterError | None = None  # set when the pass stopped before applying anything

    @classmethod
    def stopped(cls, commit: str | None, error: UpdaterError) -> SyncResult:
        """Nothing applied or pruned: `error` is why."""
        return cls(commit, errors=(str(error),), health=Health.DEGRADED, error=error)

    @property
    def in_sync(self) -> bool:
        return not self.errors and not self.unhealed


def sync(client: KubeClient, seen: Observed, planned: Planned, *, self_heal: bool,
         pool: Executor | None = None) -> SyncResult:
    """Apply `planned` and prune what it selected (only when every apply succeeded)."""
    plan = planned.plan
    changes = applier.apply_steps(client, plan.steps, client.resource, self_heal=self_heal, pool=pool)
    failed = [*planned.refused, *changes.failed]
    pruned: list[ObjectKey] = []
    if plan.prune.delete and not failed:
        versions: Callable[[ObjectKey], str | None] = seen.previous.api_version if seen.previous else _no_version
        pruned, prune_failed = applier.prune(client, plan.prune.delete, versions, client.resource)
        failed.extend(prune_failed)
    # health from fresh reads of the applied workloads, not the apply responses (see `rollout`)
    now_live = {**seen.live, **changes.results, **rollout.reread(client, changes.results)}
    health = app_health([object_health(now_live[key]).health for key in seen.keys if key in now_live])
    inventory = from_objects("", list(seen.desired)).entries + kept_entries(seen, set(pruned))
    return SyncResult(seen.commit, changes.applied, tuple(pruned), plan.drifted, changes.unhealed,
                      tuple(message for _, message in failed), health, inventory)


def kept_entries(seen: Observed, pruned: set[ObjectKey]) -> Entries:
    """Previous entries that stay in the inventory: not desired any more, but not deleted either
    (prune off or failed), and still live — so a later prune can still find them."""
    if seen.previous is None:
        return ()
    desired = set(seen.keys)
    return tuple((version, key) for version, key in seen.previous.entries
                 if key not in desired and key not in pruned and key in seen.live)


def _no_version(key: ObjectKey) -> str | None:
    return None
