"""Server-side apply and `managedFields` bookkeeping, as pure functions on object dicts.

`apply` merges an applied configuration into the live object for one field manager: fields the
manager applied before but left out now are removed when nobody else owns them; fields another
manager owns with a different value are conflicts unless `force` (then ownership moves).
`record_update` credits a manager with the fields a create/update/patch changed (operation
`Update`), taking them away from every other manager. No I/O, no clock: `now` is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, cast

from updater_sandbox.kube.fieldsets import (
    Path, changed_paths, field_set, from_fields_v1, ownable, pathstr, remove_at, to_fields_v1, value_at,
)
from updater_sandbox.kube.schema import item_key, list_keys, list_type
from updater_sandbox.kube.tree import clone


@dataclass(frozen=True)
class ManagedEntry:
    manager: str
    operation: str  # "Apply" or "Update"
    api_version: str
    time: str
    fields: frozenset[Path]
    subresource: str = ""

    def same_slot(self, manager: str, operation: str, subresource: str) -> bool:
        return (self.manager, self.operation, self.subresource) == (manager, operation, subresource)


@dataclass(frozen=True)
class Conflict:
    manager: str
    api_version: str
    path: Path

    def message(self) -> str:
        return f'conflict with "{self.manager}" using {self.api_version}'


class ApplyConflict(Exception):
    def __init__(self, conflicts: list[Conflict]) -> None:
        self.conflicts = conflicts
        if len(conflicts) == 1:
            body = f"{conflicts[0].message()}: {pathstr(conflicts[0].path)}"
        else:  # grouped by manager, worded like the real API server
            lines = []
            for manager in sorted({(c.manager, c.api_version) for c in conflicts}):
                lines.append(f'conflicts with "{manager[0]}" using {manager[1]}:')
                lines += [f"- {pathstr(c.path)}" for c in conflicts if (c.manager, c.api_version) == manager]
            body = "\n".join(lines)
        super().__init__(f"Apply failed with {len(conflicts)} conflict{'s' if len(conflicts) != 1 else ''}: {body}")


def read_managed(obj: dict[str, Any] | None) -> list[ManagedEntry]:
    entries = []
    for raw in ((obj or {}).get("metadata") or {}).get("managedFields") or []:
        entries.append(ManagedEntry(
            raw.get("manager", ""), raw.get("operation", "Update"), raw.get("apiVersion", ""), raw.get("time", ""),
            frozenset(from_fields_v1(raw.get("fieldsV1") or {})), raw.get("subresource", ""),
        ))
    return entries


def write_managed(entries: list[ManagedEntry]) -> list[dict[str, Any]]:
    out = []
    for entry in entries:
        if not entry.fields:
            continue
        raw: dict[str, Any] = {"manager": entry.manager, "operation": entry.operation,
                               "apiVersion": entry.api_version, "time": entry.time, "fieldsType": "FieldsV1",
                               "fieldsV1": to_fields_v1(entry.fields)}
        if entry.subresource:
            raw["subresource"] = entry.subresource
        out.append(raw)
    return out


def applied_part(config: dict[str, Any], subresource: str, *, status_subresource: bool) -> dict[str, Any]:
    """What of an applied configuration counts: for kinds with a status subresource, `status` only
    through /status and never through the main resource (where status belongs to controllers)."""
    owned = ownable(config)
    if subresource == "status":
        return {"status": owned["status"]} if "status" in owned else {}
    if status_subresource:
        owned.pop("status", None)
    return owned


def merge_config(base: Any, config: Any, field: str = "") -> Any:
    """`config` merged into `base` with list semantics from the schema table; null removes a field."""
    if isinstance(config, dict) and isinstance(base, dict):
        out = dict(base)
        for key, value in config.items():
            if value is None:
                out.pop(key, None)
            else:
                out[key] = merge_config(base[key], value, key) if key in base else clone(value)
        return out
    if isinstance(config, list) and isinstance(base, list):
        kind = list_type(field, base + config)
        if kind == "set":
            return base + [clone(v) for v in config if v not in base]
        if kind == "map":
            keys = list_keys(field, base + config) or ()
            out_list = list(base)
            for item in config:
                wanted = item_key(keys, item)
                index = next((i for i, old in enumerate(out_list) if item_key(keys, old) == wanted), None)
                if index is None:
                    out_list.append(clone(item))
                else:
                    out_list[index] = merge_config(out_list[index], item)
            return out_list
    return clone(config)


def apply(
    live: dict[str, Any] | None,
    config: dict[str, Any],
    *,
    manager: str,
    api_version: str,
    now: str,
    force: bool = False,
    subresource: str = "",
    status_subresource: bool = True,
) -> dict[str, Any]:
    """The object after `manager` applies `config` to `live` (None: create). Raises ApplyConflict."""
    applied = applied_part(config, subresource, status_subresource=status_subresource)
    new_set = frozenset(field_set(applied))
    entries = read_managed(live)
    mine = next((e for e in entries if e.same_slot(manager, "Apply", subresource)), None)
    others = [e for e in entries if e is not mine]
    owned_by_others = frozenset().union(*(e.fields for e in others))

    merged = clone(live) if live is not None else {"metadata": {}}
    if mine is not None:
        for path in _removable(mine.fields - new_set, owned_by_others):
            remove_at(merged, path)
    merged = merge_config(merged, applied)
    merged["apiVersion"], merged["kind"] = config.get("apiVersion"), config.get("kind")

    conflicts = [
        Conflict(other.manager, other.api_version, path)
        for other in others
        if other.subresource == subresource
        for path in sorted(other.fields & new_set)
        if _differs(live, merged, path)
    ]
    if conflicts and not force:
        raise ApplyConflict(conflicts)
    taken = {c.path for c in conflicts}
    updated = [replace(e, fields=e.fields - taken) if taken & e.fields else e for e in others]
    if mine is None:
        updated.append(ManagedEntry(manager, "Apply", api_version, now, new_set, subresource))
    else:
        changed = mine.fields != new_set or mine.api_version != api_version
        updated.insert(entries.index(mine), replace(mine, fields=new_set, api_version=api_version,
                                                    time=now if changed else mine.time))
    merged["metadata"]["managedFields"] = write_managed(updated)
    return cast(dict[str, Any], merged)


def _removable(dropped: frozenset[Path], owned_by_others: frozenset[Path]) -> list[Path]:
    """The dropped members to delete: not owned by anyone else, not holding fields others own, and
    not inside another member being deleted (a list item goes as a whole)."""
    def holds_others(path: Path) -> bool:
        return any(other[:len(path)] == path for other in owned_by_others)

    candidates = {p for p in dropped if not holds_others(p)}
    return sorted((p for p in candidates if not any(p[:i] in candidates for i in range(1, len(p)))),
                  key=len, reverse=True)


def _differs(live: dict[str, Any] | None, merged: dict[str, Any], path: Path) -> bool:
    found, before = value_at(live, path)
    if not found:
        return False
    if path[-1][:2] in ("k:", "v:") or (isinstance(before, list) and list_type(path[-1][2:], before) == "set"):
        return not value_at(merged, path)[0]  # items and set lists: their members are compared, not them
    return bool(before != value_at(merged, path)[1])


def record_update(
    old: dict[str, Any] | None,
    new: dict[str, Any],
    *,
    manager: str,
    api_version: str,
    now: str,
    subresource: str = "",
) -> dict[str, Any]:
    """`new` with managedFields crediting `manager` (operation Update) with what changed since `old`."""
    entries = read_managed(old)
    before = ownable(old) if old is not None else {}
    after = ownable(new)
    changed, removed = changed_paths(before, after)
    result = clone(new)
    if not changed and not removed:
        result.setdefault("metadata", {})["managedFields"] = write_managed(entries)
        return result
    updated = [replace(e, fields=e.fields - changed - removed) for e in entries]
    mine = next((e for e in updated if e.same_slot(manager, "Update", subresource)), None)
    if mine is None:
        updated.append(ManagedEntry(manager, "Update", api_version, now, frozenset(changed), subresource))
    else:
        updated[updated.index(mine)] = replace(mine, fields=mine.fields | changed, time=now, api_version=api_version)
    result.setdefault("metadata", {})["managedFields"] = write_managed(updated)
    return result
