"""Desired against live, without the noise the server adds.

Two questions, both pure:
- `covers(desired, live)`: does the live object still hold every field we declare, with our values?
  The cheap drift check run every interval on listed objects (no request per object).
- `object_diff(key, live, merged)`: a unified diff between the live object and the result of a
  server-side apply dry-run (`merged`), both stripped of fields the server manages (status,
  managedFields, resourceVersion, uid, timestamps...). Comparing with the dry-run result rather
  than with the manifest is what removes the noise of server defaults.
"""

from __future__ import annotations

import base64
import difflib
from dataclasses import dataclass
from typing import Any

from updater.agent import yamldocs
from updater.agent.objects import HASH_ANNOTATION, Obj, ObjectKey

_SERVER_METADATA = ("managedFields", "resourceVersion", "uid", "creationTimestamp", "generation",
                    "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds")
_SERVER_ANNOTATIONS = (HASH_ANNOTATION, "kubectl.kubernetes.io/last-applied-configuration",
                       "deployment.kubernetes.io/revision")


@dataclass(frozen=True)
class ObjectDiff:
    key: ObjectKey
    action: str  # "create", "update", "delete", "recreate"
    text: str  # unified diff; for delete, the live object as removed lines


def strip_server_fields(obj: Obj) -> Obj:
    """`obj` without status and the metadata the API server owns."""
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _SERVER_METADATA}
    notes = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in _SERVER_ANNOTATIONS}
    if notes:
        meta["annotations"] = notes
    else:
        meta.pop("annotations", None)
    return {**{k: v for k, v in obj.items() if k != "status"}, "metadata": meta}


def as_stored(desired: Obj) -> Obj:
    """`desired` as the API server stores it, where that differs by design: a Secret's write-only
    `stringData` is kept base64-encoded in `data`. Without this a Secret using stringData would look
    drifted on every pass."""
    if desired.get("kind") != "Secret" or desired.get("apiVersion") != "v1" or not desired.get("stringData"):
        return desired
    encoded = {k: base64.b64encode(str(v).encode()).decode() for k, v in desired["stringData"].items()}
    stored = {k: v for k, v in desired.items() if k != "stringData"}
    stored["data"] = {**(desired.get("data") or {}), **encoded}
    return stored


def covers(desired: Any, live: Any) -> bool:
    """True when every field set in `desired` has the same value in `live` (extra live fields are
    defaults or other managers' fields: not drift). Lists must match element by element."""
    if isinstance(desired, dict):
        if not isinstance(live, dict):
            return False
        return all(
            (value is None and live.get(name) is None) or (name in live and covers(value, live[name]))
            for name, value in desired.items()
        )
    if isinstance(desired, list):
        return (isinstance(live, list) and len(desired) == len(live)
                and all(covers(d, item) for d, item in zip(desired, live, strict=True)))
    if isinstance(desired, bool) or isinstance(live, bool):
        return desired is live
    return bool(desired == live)


def hide_secret_values(key: ObjectKey, before: Obj | None, after: Obj | None) -> tuple[Obj | None, Obj | None]:
    """Secrets with their values replaced, as `kubectl diff` does: `***` when unchanged, `*** (before)`
    and `*** (after)` when changed, so a diff printed in CI says *which* keys change, never to what."""
    if key.kind != "Secret" or key.group != "":
        return before, after
    old_values = {**((before or {}).get("data") or {}), **((before or {}).get("stringData") or {})}
    new_values = {**((after or {}).get("data") or {}), **((after or {}).get("stringData") or {})}

    def masked(obj: Obj | None, values: dict[str, object], other: dict[str, object], side: str) -> Obj | None:
        if obj is None:
            return None
        hidden = {name: "***" if other.get(name) == value else f"*** ({side})" for name, value in values.items()}
        return {**{k: v for k, v in obj.items() if k not in ("data", "stringData")}, **({"data": hidden} if hidden else {})}

    return masked(before, old_values, new_values, "before"), masked(after, new_values, old_values, "after")


def unified(key: ObjectKey, before: Obj | None, after: Obj | None) -> str:
    """A unified diff of the stripped objects ("" when they are equal); Secret values never shown."""
    before, after = hide_secret_values(key, before, after)
    old = yamldocs.dump(strip_server_fields(before)).splitlines(keepends=True) if before else []
    new = yamldocs.dump(strip_server_fields(after)).splitlines(keepends=True) if after else []
    name = str(key).replace(" ", "/")
    return "".join(difflib.unified_diff(old, new, f"live/{name}", f"desired/{name}"))


def object_diff(key: ObjectKey, live: Obj | None, merged: Obj | None) -> ObjectDiff | None:
    """What applying (or, with `merged=None`, pruning) would change; None when nothing would."""
    if live is None and merged is not None:
        return ObjectDiff(key, "create", unified(key, None, merged))
    if merged is None:
        return ObjectDiff(key, "delete", unified(key, live, None))
    text = unified(key, live, merged)
    return ObjectDiff(key, "update", text) if text else None
