"""The sync plan: which desired objects need applying and why, and which objects to prune. Pure.

Cheap by design, so a steady-state sync costs one list call per kind and nothing per object:
- `missing`: not among the app's live objects (first apply, or deleted by hand);
- `changed`: the live object's `updater.dev/desired-hash` differs from the new manifest's, i.e. the
  repository changed it since the last apply;
- `drifted`: same hash, but a field we declare no longer has our value on the live object (a manual
  edit). Applied only with self-heal; always reported.
Only these objects are sent to the API (dry-run for diffs, or apply).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace

from updater.agent import names
from updater.agent.diff import as_stored, covers
from updater.agent.inventory import Inventory, PruneSelection, cluster_kind_allowed, namespace_allowed, select_prune
from updater.agent.objects import APP_LABEL, HASH_ANNOTATION, Obj, ObjectKey, annotations_of, apply_rank, key_of
from updater.errors import PolicyRefused


class NamespaceRefused(PolicyRefused):
    """The render declares objects outside the app's allowed namespaces or cluster-scoped kinds;
    nothing is applied."""


class NameRefused(PolicyRefused):
    """An object's name, namespace or apiVersion breaks the Kubernetes naming rules; nothing is applied."""


@dataclass(frozen=True)
class Step:
    key: ObjectKey
    obj: Obj  # the marked manifest to apply
    reason: str  # "missing", "changed" or "drifted"
    live: Obj | None


@dataclass(frozen=True)
class SyncPlan:
    steps: tuple[Step, ...]  # in apply order
    prune: PruneSelection
    unchanged: int
    notes: tuple[str, ...] = ()
    # (uid, resourceVersion, desired hash) of live objects found equal to git: the same live version
    # against the same manifest needs no second look on the next pass (see `make_plan(clean=...)`)
    clean: frozenset[tuple[str, str, str]] = frozenset()

    @property
    def drifted(self) -> tuple[ObjectKey, ...]:
        return tuple(step.key for step in self.steps if step.reason == "drifted")

    @property
    def in_sync(self) -> bool:
        return not self.steps and not self.prune.delete


def check_names(desired: list[Obj]) -> None:
    """Every object's apiVersion, name and namespace as the API server would accept them: a name is
    never allowed to become another URL (`x/../../kube-system/secrets/y`)."""
    for obj in desired:
        meta = obj.get("metadata") or {}
        try:
            names.check_api_version(obj.get("apiVersion"))
            names.check_name(str(obj.get("kind")), meta.get("name"))
            if meta.get("namespace") is not None:
                names.check_label(meta["namespace"], what="namespace")
        except names.InvalidName as err:
            raise NameRefused(f"{err}: fix it in git (nothing of this app was applied)") from None


def check_namespaces(desired: list[Obj], allowed: Collection[str], cluster_kinds: Collection[str] = ()) -> None:
    keys = list(map(key_of, desired))
    cluster = [key for key in keys if not cluster_kind_allowed(key, allowed, cluster_kinds)]
    if cluster:
        raise NamespaceRefused(
            f"{cluster[0]} is cluster-scoped and its kind is not in allowed_cluster_kinds "
            f"({', '.join(sorted(cluster_kinds)) or 'none'})"
            + (f" and {len(cluster) - 1} more" if len(cluster) > 1 else "")
            + ": an app confined to namespaces may only apply the cluster-scoped kinds the operator lists"
        )
    outside = [key for key in keys if not namespace_allowed(key, allowed)]
    if outside:
        raise NamespaceRefused(
            f"{outside[0]} is outside the allowed namespaces ({', '.join(sorted(allowed))})"
            + (f" and {len(outside) - 1} more" if len(outside) > 1 else "")
            + ": move it or add its namespace to allowed_namespaces"
        )


def step_reason(desired: Obj, live: Obj | None) -> str | None:
    if live is None:
        return "missing"
    if annotations_of(live).get(HASH_ANNOTATION) != annotations_of(desired).get(HASH_ANNOTATION):
        return "changed"
    if not covers(as_stored(desired), live):
        return "drifted"
    return None


def plan_version(live: Obj, desired: Obj) -> tuple[str, str, str]:
    """What `clean` remembers: this live version (uid, resourceVersion) against this manifest (hash)."""
    meta = live.get("metadata") or {}
    return (meta.get("uid", ""), meta.get("resourceVersion", ""), annotations_of(desired).get(HASH_ANNOTATION, ""))


def make_plan(
    desired: list[Obj],
    live: Mapping[ObjectKey, Obj],
    previous: Inventory | None,
    *,
    app: str,
    prune: bool,
    allow_empty_prune: bool = False,
    allowed_namespaces: Collection[str] = (),
    allowed_cluster_kinds: Collection[str] = (),
    clean: Collection[tuple[str, str, str]] = (),
) -> SyncPlan:
    """`desired` are marked manifests (see `objects.mark`); `live` the app's listed objects; `clean`
    the previous plan's `clean` set, which spares the field-by-field drift check of live objects
    that have not changed since (their resourceVersion is the same)."""
    check_names(desired)
    check_namespaces(desired, allowed_namespaces, allowed_cluster_kinds)
    keyed = sorted(((key_of(obj), obj) for obj in desired), key=lambda pair: apply_rank(pair[0]))
    steps = []
    still_clean = set()
    for key, obj in keyed:
        current = live.get(key)
        version = plan_version(current, obj) if current is not None else None
        if version is not None and version in clean:
            still_clean.add(version)
            continue
        reason = step_reason(obj, current)
        if reason:
            steps.append(Step(key, obj, reason, current))
        elif version is not None:
            still_clean.add(version)
    notes: list[str] = []
    selection = PruneSelection(())
    if prune and (desired or allow_empty_prune):
        selection = select_prune(previous, [key for key, _ in keyed], live, app=app,
                                 allowed_namespaces=allowed_namespaces, allowed_cluster_kinds=allowed_cluster_kinds)
    elif prune and previous is not None and previous.keys:
        notes.append("the render is empty: nothing pruned (set allow_empty_prune to allow it)")
    return SyncPlan(tuple(steps), selection, len(desired) - len(steps), (*notes, *selection.notes),
                    frozenset(still_clean))


def refuse_foreign(plan: SyncPlan, owners: Mapping[ObjectKey, str], *,
                   app: str = "") -> tuple[SyncPlan, tuple[tuple[ObjectKey, str], ...]]:
    """Take out of the plan the objects to create that already exist without being this app's
    (`owners`: key -> the app named by its ownership label, "" when it has none): two apps declaring
    one object is a mistake to fix in git, and an object nobody handed over is never adopted (a
    later prune would delete what the app never created). Returns the plan without them, and why
    each was refused."""
    refused = tuple(
        (step.key, _refusal(step.key, owners[step.key], app))
        for step in plan.steps if step.reason == "missing" and step.key in owners
    )
    if not refused:
        return plan, ()
    gone = {key for key, _ in refused}
    return replace(plan, steps=tuple(s for s in plan.steps if s.key not in gone)), refused


def _refusal(key: ObjectKey, owner: str, app: str) -> str:
    if owner:
        return f"{key} belongs to app {owner} ({APP_LABEL}={owner}): declare it in only one app"
    kind = f"{key.kind}.{key.group}" if key.group else key.kind
    where = f" -n {key.namespace}" if key.namespace else ""
    return (f"{key} already exists and is not managed by this agent (no {APP_LABEL} label): not adopting "
            f"it; to hand it over, label it: kubectl label {kind.lower()} {key.name}{where} "
            f"{APP_LABEL}={app or '<app>'}")
