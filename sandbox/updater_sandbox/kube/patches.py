"""PATCH bodies other than apply: JSON merge patch (RFC 7386), strategic merge patch (what
`kubectl edit`/`patch` send: containers merged by name, `$patch`, `$setElementOrder`,
`$retainKeys`, `$deleteFromPrimitiveList` directives) and JSON patch (RFC 6902). Pure.

Each function returns a new object; a patch that cannot apply raises `PatchError` (the API edge
answers 422/400 as the real server does).
"""

from __future__ import annotations

from typing import Any

from updater_sandbox.kube.schema import item_key, list_keys, list_type
from updater_sandbox.kube.tree import clone


class PatchError(ValueError):
    pass


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return clone(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def strategic_merge_patch(target: Any, patch: Any, field: str = "") -> Any:
    if not isinstance(patch, dict):
        return clone(patch)
    if patch.get("$patch") == "replace":
        return {k: clone(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") or key in ("$patch", "$retainKeys"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            name = key.partition("/")[2]
            out[name] = [v for v in out.get(name) or [] if v not in value]
            continue
        if value is None:
            out.pop(key, None)
        elif isinstance(value, list) and isinstance(out.get(key), list):
            out[key] = _merge_list(out[key], value, key)
        else:
            merged = strategic_merge_patch(out.get(key), value, key)
            if merged is None:
                out.pop(key, None)
            else:
                out[key] = merged
    if "$retainKeys" in patch:
        out = {k: v for k, v in out.items() if k in patch["$retainKeys"]}
    for key, order in patch.items():
        if key.startswith("$setElementOrder/") and isinstance(out.get(key.partition("/")[2]), list):
            name = key.partition("/")[2]
            out[name] = _ordered(out[name], order, name)
    return out


def _merge_list(live: list[Any], patch: list[Any], field: str) -> list[Any]:
    kind = list_type(field, live + patch)
    if kind == "set":
        return live + [v for v in patch if v not in live]
    if kind != "map":
        return clone([item for item in patch if not (isinstance(item, dict) and "$patch" in item)])
    keys = list_keys(field, live + patch) or ()
    out = list(live)
    for item in patch:
        wanted = item_key(keys, {k: v for k, v in item.items() if k != "$patch"})
        index = next((i for i, old in enumerate(out) if item_key(keys, old) == wanted), None)
        if item.get("$patch") == "delete":
            if index is not None:
                del out[index]
        elif index is None:
            out.append({k: clone(v) for k, v in item.items() if k != "$patch"})
        else:
            out[index] = strategic_merge_patch(out[index], item, field)
    return out


def _ordered(items: list[Any], order: list[Any], field: str) -> list[Any]:
    """Items in `$setElementOrder` order; anything it does not mention keeps its place at the end."""
    keys = list_keys(field, items) if list_type(field, items) == "map" else None

    def identity(value: Any) -> Any:
        return item_key(keys, value) if keys is not None and isinstance(value, dict) else value

    wanted = [identity(v) for v in order]
    ranked = sorted(enumerate(items), key=lambda pair: (
        wanted.index(identity(pair[1])) if identity(pair[1]) in wanted else len(wanted), pair[0]))
    return [item for _, item in ranked]


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer {path!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _resolve(doc: Any, parts: list[str]) -> Any:
    for part in parts:
        if isinstance(doc, list):
            doc = doc[int(part)]
        elif isinstance(doc, dict) and part in doc:
            doc = doc[part]
        else:
            raise PatchError(f"path /{'/'.join(parts)} does not exist")
    return doc


def json_patch(target: Any, operations: list[dict[str, Any]]) -> Any:
    doc = clone(target)
    for op in operations:
        kind, parts = op.get("op"), _pointer(op.get("path", ""))
        try:
            if kind == "test":
                if _resolve(doc, parts) != op.get("value"):
                    raise PatchError(f"test failed at {op.get('path')}")
                continue
            if kind in ("move", "copy"):
                source = _pointer(op.get("from", ""))
                value = clone(_resolve(doc, source))
                if kind == "move":
                    doc = _remove(doc, source)
                doc = _add(doc, parts, value, replace=False)
            elif kind == "remove":
                doc = _remove(doc, parts)
            elif kind in ("add", "replace"):
                if kind == "replace":
                    _resolve(doc, parts)
                doc = _add(doc, parts, clone(op.get("value")), replace=kind == "replace")
            else:
                raise PatchError(f"unknown JSON patch operation {kind!r}")
        except (IndexError, ValueError, TypeError, KeyError) as err:
            raise PatchError(f"JSON patch {kind} at {op.get('path')} failed: {err}") from err
    return doc


def _add(doc: Any, parts: list[str], value: Any, *, replace: bool) -> Any:
    if not parts:
        return value
    parent = _resolve(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, list):
        index = len(parent) if last == "-" else int(last)
        if replace:
            parent[index] = value
        else:
            parent.insert(index, value)
    elif isinstance(parent, dict):
        parent[last] = value
    else:
        raise PatchError(f"cannot add below a scalar at /{'/'.join(parts)}")
    return doc


def _remove(doc: Any, parts: list[str]) -> Any:
    parent = _resolve(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, list):
        del parent[int(last)]
    elif isinstance(parent, dict) and last in parent:
        del parent[last]
    else:
        raise PatchError(f"path /{'/'.join(parts)} does not exist")
    return doc
