"""Field sets: which fields of an object a manager owns, in the `FieldsV1` form of `managedFields`.

A path is a tuple of FieldsV1 keys: `f:<field>` for a map field, `k:<json of keys>` for an item of
an associative list, `v:<json value>` for a member of a set list. `field_set` lists the members of
an object (leaves, list items, set lists); `to_fields_v1`/`from_fields_v1` convert to and from the
wire form; `value_at`/`remove_at` navigate an object along a path. Pure: dicts in, values out.
"""

from __future__ import annotations

import json
from typing import Any

from updater_sandbox.kube.schema import item_key, list_keys, list_type

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
        members |= _members(key, value, prefix + (f"f:{key}",))
    return members


def _members(key: str, value: Any, path: Path) -> set[Path]:
    if isinstance(value, dict) and value:
        return field_set(value, path)
    if isinstance(value, list) and value:
        return _list_members(key, value, path)
    return {path}


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


def changed_paths(old: dict[str, Any], new: dict[str, Any], prefix: Path = ()) -> tuple[set[Path], set[Path]]:
    """(members of `new` that are added or differ from `old`, members of `old` gone from `new`).

    Equal subtrees are skipped with one comparison, so a status write costs what the status costs."""
    changed: set[Path] = set()
    removed: set[Path] = set()
    for key in new.keys() | old.keys():
        path = prefix + (f"f:{key}",)
        if key not in new:
            removed |= _members(key, old[key], path)
        elif key not in old:
            changed |= _members(key, new[key], path)
        elif old[key] != new[key]:
            more, gone = _changed_value(key, old[key], new[key], path)
            changed |= more
            removed |= gone
    return changed, removed


def _changed_value(key: str, old: Any, new: Any, path: Path) -> tuple[set[Path], set[Path]]:
    if isinstance(old, dict) and isinstance(new, dict) and old and new:
        return changed_paths(old, new, path)
    if not (isinstance(old, list) and isinstance(new, list) and old and new):
        return _members(key, new, path), _members(key, old, path) - _members(key, new, path)
    kind = list_type(key, old + new)
    if kind == "atomic":
        return {path}, set()
    old_members, new_members = _list_members(key, old, path), _list_members(key, new, path)
    if kind == "set":
        return new_members - old_members, old_members - new_members
    keys = list_keys(key, old + new) or ()
    before = {f"k:{_json(item_key(keys, item))}": item for item in old}
    changed: set[Path] = set()
    for item in new:
        element = f"k:{_json(item_key(keys, item))}"
        if element not in before:
            changed |= {path + (element,)} | field_set(item, path + (element,))
        elif before[element] != item:
            more, _ = changed_paths(before[element], item, path + (element,))
            changed |= more
    gone = old_members - new_members
    return changed, gone
