"""Field sets: which fields of an object a manager owns, in the `FieldsV1` form of `managedFields`.

A path is a tuple of FieldsV1 keys: `f:<field>` for a map field, `k:<json of keys>` for an item of
an associative list, `v:<json value>` for a member of a set list. `field_set` lists the members of
an object (leaves, list items, set lists); `to_fields_v1`/`from_fields_v1` convert to and from the
wire form; `value_at`/`remove_at` navigate an object along a path. Pure: dicts in, values out.
"""

from __future__ import annotations

import json
from typing import Any

from updater.sandbox.kube.schema import item_key, list_keys, list_type

Path = tuple[str, ...]

# Identity and bookkeeping fields nobody "owns" (the real server strips these before tracking).
_UNOWNED_META = frozenset({
    "name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields",
    "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds", "generateName",
})


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def ownable(obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` without apiVersion, kind and the identity/bookkeeping metadata fields."""
    out = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _UNOWNED_META}
    if meta:
        out["metadata"] = meta
    return out


def field_set(obj: dict[str, Any], prefix: Path = ()) -> set[Path]:
    members: set[Path] = set()
    for key, value in obj.items():
        path = prefix + (f"f:{key}",)
        if isinstance(value, dict) and value:
            members |= field_set(value, path)
        elif isinstance(value, list) and value:
            members |= _list_members(key, value, path)
        else:
            members.add(path)
    return members


def _list_members(field: str, items: list[Any], path: Path) -> set[Path]:
    kind = list_type(field, items)
    if kind == "set":
        return {path} | {path + (f"v:{_json(v)}",) for v in items}
    if kind == "map":
        keys = list_keys(field, items) or ()
        members: set[Path] = set()
        for item in items:
            item_path = path + (f"k:{_json(item_key(keys, item))}",)
            members.add(item_path)
            members |= field_set(item, item_path)
        return members
    return {path}


def to_fields_v1(paths: set[Path] | frozenset[Path]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for path in sorted(paths):
        node = root
        for element in path:
            node = node.setdefault(element, {})
    for path in paths:
        node = root
        for element in path:
            node = node[element]
        if node and "." not in node:
            node["."] = {}
    return root


def from_fields_v1(tree: dict[str, Any], prefix: Path = ()) -> set[Path]:
    members: set[Path] = set()
    for key, child in tree.items():
        if key == ".":
            members.add(prefix)
        elif child:
            members |= from_fields_v1(child, prefix + (key,))
        else:
            members.add(prefix + (key,))
    return members


def _find_item(items: list[Any], element: str) -> int | None:
    kind, _, text = element.partition(":")
    wanted = json.loads(text)
    for index, item in enumerate(items):
        if kind == "v" and item == wanted:
            return index
        if kind == "k" and isinstance(item, dict) and item_key(tuple(wanted), item) == wanted:
            return index
    return None


def value_at(obj: Any, path: Path) -> tuple[bool, Any]:
    """(found, value) of the member at `path`."""
    node = obj
    for element in path:
        if element.startswith("f:") and isinstance(node, dict) and element[2:] in node:
            node = node[element[2:]]
        elif element[:2] in ("k:", "v:") and isinstance(node, list):
            index = _find_item(node, element)
            if index is None:
                return False, None
            node = node[index]
        else:
            return False, None
    return True, node


def remove_at(obj: dict[str, Any], path: Path) -> None:
    """Remove the member at `path` (if present), then any map the removal left empty."""
    found, parent = value_at(obj, path[:-1])
    if not found:
        return
    last = path[-1]
    if last.startswith("f:") and isinstance(parent, dict):
        parent.pop(last[2:], None)
    elif isinstance(parent, list):
        index = _find_item(parent, last)
        if index is not None:
            del parent[index]
    if len(path) > 1 and parent in ({}, []):
        remove_at(obj, path[:-1])


def pathstr(path: Path) -> str:
    """`.spec.template.spec.containers[name="app"].image`, as the API server words conflicts."""
    out = []
    for element in path:
        kind, _, text = element.partition(":")
        if kind == "f":
            out.append(f".{text}")
        elif kind == "k":
            out.append("[" + ",".join(f"{k}={_json(v)}" for k, v in json.loads(text).items()) + "]")
        else:
            out.append(f"[={text}]")
    return "".join(out)


def changed_paths(old: dict[str, Any], new: dict[str, Any]) -> tuple[set[Path], set[Path]]:
    """(members of `new` that are added or differ from `old`, members of `old` gone from `new`)."""
    old_set, new_set = field_set(old), field_set(new)
    changed = set()
    for path in new_set:
        found, before = value_at(old, path)
        if not found or (path[-1][:2] not in ("k:", "v:") and before != value_at(new, path)[1]):
            changed.add(path)
    return changed, old_set - new_set
