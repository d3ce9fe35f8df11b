"""Step 2 of a pass, plan: what to apply, prune and heal, from what `observe` read.

The rules are `updater.agent.plan`'s (pure, cheap: hash annotations and a field-by-field check).
This step adds the two questions only the API server can answer, and only for the objects the cheap
rules flagged: is a "drifted" object really drifted (a server-side apply dry-run that leaves the live
object unchanged says the difference was the server's own normalisation), and does another app
already own an object this pass would create (one extra label-selected list per kind, never in a
quiet pass). Sends dry-runs and lists only: nothing here changes the cluster.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace

from updater.agent.client import KubeClient, KubeError
from updater.agent.diff import object_diff
from updater.agent.objects import APP_LABEL, ObjectKey, key_of
from updater.agent.observe import Lister, Observed
from updater.agent.plan import SyncPlan, make_plan, plan_version, refuse_foreign
from updater.agent.settings import AppSettings


@dataclass(frozen=True)
class Planned:
    plan: SyncPlan  # without the refused objects
    refused: tuple[tuple[ObjectKey, str], ...] = ()  # objects another app owns: not applied, an error

    @property
    def notes(self) -> tuple[str, ...]:
        return self.plan.notes


def plan_pass(app: AppSettings, seen: Observed, *, lister: Lister,
              clean: Collection[tuple[str, str, str]] = ()) -> Planned:
    """The plan for this pass; `clean` is the previous pass's `plan.clean` (see `make_plan`), and the
    returned `plan.clean` is the one to pass next time."""
    plan = make_plan(list(seen.desired), seen.live, seen.previous, app=app.name, prune=app.prune,
                     allow_empty_prune=app.allow_empty_prune, allowed_namespaces=app.allowed_namespaces,
                     allowed_cluster_kinds=app.allowed_cluster_kinds, clean=clean)
    plan = confirm_drift(lister.client, plan)
    plan, refused = refuse_foreign(plan, foreign_owners(app, plan, lister), app=app.name)
    return Planned(plan, refused)


def confirm_drift(client: KubeClient, plan: SyncPlan) -> SyncPlan:
    """`plan` without the drift the server says is none; those objects are remembered as clean."""
    false_alarms = []
    for step in plan.steps:
        if step.reason != "drifted" or step.live is None:
            continue
        resource = client.resource(step.obj["apiVersion"], step.obj["kind"])
        try:
            merged = client.apply(resource, step.obj, dry_run=True) if resource else None
        except KubeError:
            continue  # cannot confirm: keep it as drift, the apply will say what is wrong
        if merged is not None and object_diff(step.key, step.live, merged) is None:
            false_alarms.append(step)
    if not false_alarms:
        return plan
    versions = {plan_version(step.live, step.obj) for step in false_alarms if step.live is not None}
    return replace(plan, steps=tuple(s for s in plan.steps if s not in false_alarms),
                   unchanged=plan.unchanged + len(false_alarms), clean=plan.clean | versions)


def foreign_owners(app: AppSettings, plan: SyncPlan, lister: Lister) -> dict[ObjectKey, str]:
    """Owners (key -> app name, '' for none) of the objects this pass would create that exist without this
    app's label: labelled for another app, or not labelled at all — neither is ever adopted."""
    kinds = {(step.key.group, step.key.kind): step.obj["apiVersion"] for step in plan.steps if step.reason == "missing"}
    owners: dict[ObjectKey, str] = {}
    for (_, kind), version in kinds.items():
        resource = lister.client.resource(version, kind)
        if resource is not None:
            # `!=` also selects objects without the label: those are never adopted either
            for item in lister.labelled(app, resource, f"{APP_LABEL}!={app.name}"):
                owners[key_of(item)] = (item["metadata"].get("labels") or {}).get(APP_LABEL) or ""
    return owners
