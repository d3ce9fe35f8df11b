"""Carry out a sync plan against the cluster: apply in order, wait for CRDs, prune. Returns a ChangeSet.

Namespaces and CustomResourceDefinitions are applied first; each new CRD is waited for until its
`Established` condition is True (then discovery is refreshed, so its custom resources resolve); the
rest follows in plan order. One object failing does not stop the others, but any failure stops the
prune of that round. An immutable-field rejection is reported as such; when the manifest opts in with
`updater.dev/recreate: "true"` the object is deleted and created again.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field

from updater.agent.client import KubeClient, KubeError, KubeInvalid, Resource
from updater.agent.objects import RECREATE_ANNOTATION, Obj, ObjectKey, annotations_of, apply_rank, is_crd
from updater.agent.plan import Step

log = logging.getLogger("updater.agent")

Resolver = Callable[[str, str], Resource | None]  # (apiVersion, kind) -> resource


@dataclass(frozen=True)
class ChangeSet:
    applied: tuple[tuple[ObjectKey, str], ...] = ()  # (object, "created" | "configured" | "recreated")
    unhealed: tuple[ObjectKey, ...] = ()  # drifted, left alone (no self-heal)
    failed: tuple[tuple[ObjectKey, str], ...] = ()
    results: dict[ObjectKey, Obj] = field(default_factory=dict)  # objects as the API returned them


def apply_steps(client: KubeClient, steps: Sequence[Step], resolve: Resolver, *, self_heal: bool,
                crd_timeout: float = 30.0, pool: Executor | None = None) -> ChangeSet:
    """Apply `steps` (in apply order). Objects of the same kind rank go out concurrently on `pool`;
    ranks, and the Namespace/CRD phase before the rest, stay strictly in order."""
    first = [s for s in steps if s.key.kind == "Namespace" and s.key.group == "" or is_crd(s.key)]
    rest = [s for s in steps if s not in first]
    applied: list[tuple[ObjectKey, str]] = []
    unhealed = [s.key for s in steps if s.reason == "drifted" and not self_heal]
    failed: list[tuple[ObjectKey, str]] = []
    results: dict[ObjectKey, Obj] = {}
    for phase in (first, rest):
        for wave in _waves([s for s in phase if s.reason != "drifted" or self_heal]):
            for step in wave:
                resolve(step.obj["apiVersion"], step.obj["kind"])  # fill discovery here, not in the workers
            attempt = functools.partial(_attempt, client, resolve=resolve)
            outcomes = pool.map(attempt, wave) if pool is not None and len(wave) > 1 else map(attempt, wave)
            for step, (obj, action, error) in zip(wave, outcomes, strict=True):
                if obj is None:
                    failed.append((step.key, error))
                    log.warning("apply %s failed: %s", step.key, error)
                else:
                    results[step.key] = obj
                    applied.append((step.key, action))
                    log.info("%s %s (%s)", step.key, action, step.reason)
        if phase is first:
            for key, obj in list(results.items()):
                if is_crd(key):
                    try:
                        results[key] = wait_established(client, obj, resolve, timeout=crd_timeout)
                    except KubeError as err:
                        failed.append((key, str(err)))
            client.forget_discovery()
    return ChangeSet(tuple(applied), tuple(unhealed), tuple(failed), results)


def _waves(steps: Sequence[Step]) -> list[list[Step]]:
    """Runs of consecutive steps with the same kind rank (steps come sorted by it)."""
    waves: list[list[Step]] = []
    for step in steps:
        if waves and apply_rank(waves[-1][0].key)[0] == apply_rank(step.key)[0]:
            waves[-1].append(step)
        else:
            waves.append([step])
    return waves


def _attempt(client: KubeClient, step: Step, *, resolve: Resolver) -> tuple[Obj | None, str, str]:
    """(result, action, "") or (None, "", the error message): failures are data, not exceptions."""
    try:
        obj, action = _apply_one(client, step, resolve)
    except KubeError as err:
        return None, "", str(err)
    except Exception as err:  # noqa: BLE001 - e.g. RecursionError encoding a hostile object: its failure only
        log.warning("apply %s: unexpected %s", step.key, type(err).__name__, exc_info=err)
        return None, "", f"{step.key}: not applied: unexpected {type(err).__name__}: {' '.join(str(err).split())[:200]}"
    return obj, action, ""


def _apply_one(client: KubeClient, step: Step, resolve: Resolver) -> tuple[Obj, str]:
    resource = resolve(step.obj["apiVersion"], step.obj["kind"])
    if resource is None:
        raise KubeError(f"{step.key}: the API has no {step.obj['kind']} in {step.obj['apiVersion']}: "
                        "is its CustomResourceDefinition installed?")
    action = "created" if step.live is None else "configured"
    try:
        return client.apply(resource, step.obj), action
    except KubeInvalid as err:
        if not err.immutable:
            raise
        if not _recreate_allowed(step.obj):
            raise KubeInvalid(f"{step.key}: an immutable field changed ({err}); delete the object or "
                              f'annotate it {RECREATE_ANNOTATION}: "true" to let the agent re-create it',
                              status=err.status, reason=err.reason) from err
    meta = step.obj["metadata"]
    client.delete(resource, meta["name"], namespace=meta.get("namespace"))
    _wait_gone(client, resource, meta["name"], meta.get("namespace"))
    return client.apply(resource, step.obj), "recreated"


def _recreate_allowed(obj: Obj) -> bool:
    return annotations_of(obj).get(RECREATE_ANNOTATION) == "true"


def _wait_gone(client: KubeClient, resource: Resource, name: str, namespace: str | None,
               timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while client.get(resource, name, namespace=namespace) is not None:
        if time.monotonic() > deadline:
            raise KubeError(f"{resource.kind} {namespace or ''}/{name} still exists {timeout:.0f}s after delete "
                            "(a finalizer?): cannot re-create it")
        time.sleep(0.1)


def established(crd: Obj) -> bool:
    conditions = (crd.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)


def wait_established(client: KubeClient, crd: Obj, resolve: Resolver, *, timeout: float) -> Obj:
    resource = resolve(crd["apiVersion"], crd["kind"])
    assert resource is not None  # we just applied it
    deadline = time.monotonic() + timeout
    while not established(crd):
        if time.monotonic() > deadline:
            raise KubeError(f"CustomResourceDefinition {crd['metadata']['name']} not Established after "
                            f"{timeout:.0f}s: its custom resources were not applied")
        time.sleep(0.1)
        crd = client.get(resource, crd["metadata"]["name"]) or crd
    return crd


def prune(client: KubeClient, keys: Sequence[ObjectKey], versions: Callable[[ObjectKey], str | None],
          resolve: Resolver) -> tuple[list[ObjectKey], list[tuple[ObjectKey, str]]]:
    """Delete `keys` in the given (prune) order; returns (deleted, failed)."""
    deleted: list[ObjectKey] = []
    failed: list[tuple[ObjectKey, str]] = []
    for key in keys:
        version = versions(key)
        resource = resolve(version, key.kind) if version else None
        if resource is None:
            continue  # its kind is gone from the API, and the object with it
        try:
            if client.delete(resource, key.name, namespace=key.namespace or None):
                deleted.append(key)
                log.info("%s pruned", key)
        except KubeError as err:
            failed.append((key, str(err)))
            log.warning("prune %s failed: %s", key, err)
    return deleted, failed
