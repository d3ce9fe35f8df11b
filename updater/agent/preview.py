"""`--dry-run`: every change a pass would make, as one diff per object. Sends dry-runs only.

Each planned object is sent as a server-side apply dry-run and compared with the live object (the
server's defaults are then no noise); refused objects and prunes are listed too. Nothing is written.
"""

from __future__ import annotations

from updater.agent.client import KubeClient, KubeNotFound
from updater.agent.decide import Planned
from updater.agent.diff import ObjectDiff, object_diff
from updater.agent.observe import Observed


def preview(client: KubeClient, seen: Observed, planned: Planned) -> list[ObjectDiff]:
    diffs: list[ObjectDiff] = []
    for step in planned.plan.steps:
        resource = client.resource(step.obj["apiVersion"], step.obj["kind"])
        if resource is None:  # its CRD is in the same render and not installed yet
            created = object_diff(step.key, None, step.obj)  # always a "create" diff
            diffs.extend([created] if created else [])
            continue
        meta = step.obj["metadata"]
        live = step.live or client.get(resource, meta["name"], namespace=meta.get("namespace"))
        try:
            merged = client.apply(resource, step.obj, dry_run=True)
        except KubeNotFound:  # its namespace is created by this same sync
            merged = step.obj
        found = object_diff(step.key, live, merged)
        if found:
            diffs.append(found)
    diffs.extend(ObjectDiff(key, "refuse", f"{message}\n") for key, message in planned.refused)
    for key in planned.plan.prune.delete:
        found = object_diff(key, seen.live[key], None)
        if found:
            diffs.append(found)
    return diffs
