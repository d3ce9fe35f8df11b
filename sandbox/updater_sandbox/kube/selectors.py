"""Label selectors (equality- and set-based) and field selectors, parsed and matched. Pure.

Label syntax as `kubectl -l` sends it: `a=b,c!=d,e in (x,y),f notin (z),g,!h`. Field selectors
accept `=`, `==` and `!=` on dotted paths (`metadata.name`, `metadata.namespace`, `status.phase`...).
A malformed selector raises `ValueError` (the API edge answers 400 BadRequest).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Predicate = Callable[[dict[str, Any]], bool]

_SET_RE = re.compile(r"^\s*(!?)\s*([A-Za-z0-9./_-]+)\s*(?:(notin|in)\s*\(([^)]*)\))?\s*$")
_EQ_RE = re.compile(r"^\s*([A-Za-z0-9./_-]+)\s*(==|=|!=)\s*([A-Za-z0-9._-]*)\s*$")


def _split_requirements(text: str) -> list[str]:
    """Split on commas that are not inside `(...)`."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in (part.strip() for part in parts) if p]


def _label_requirement(text: str) -> Callable[[Mapping[str, str]], bool]:
    if m := _EQ_RE.match(text):
        key, op, value = m.groups()
        if op == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    if m := _SET_RE.match(text):
        negated, key, op, values_text = m.groups()
        if op is None:
            return (lambda labels: key not in labels) if negated else (lambda labels: key in labels)
        if negated:
            raise ValueError(f"unable to parse requirement: {text!r}")
        values = {v.strip() for v in values_text.split(",") if v.strip()}
        if op == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    raise ValueError(f"unable to parse requirement: {text!r}")


def label_selector(text: str) -> Predicate:
    requirements = [_label_requirement(part) for part in _split_requirements(text or "")]

    def matches(obj: dict[str, Any]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(req(labels) for req in requirements)

    return matches


def _field_value(obj: dict[str, Any], path: str) -> str:
    node: Any = obj
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    if node is None:
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    return str(node)


def field_selector(text: str) -> Predicate:
    requirements: list[tuple[str, bool, str]] = []
    for part in _split_requirements(text or ""):
        m = re.match(r"^\s*([A-Za-z0-9._-]+)\s*(==|=|!=)\s*(.*?)\s*$", part)
        if not m:
            raise ValueError(f"invalid field selector: {part!r}")
        path, op, value = m.groups()
        requirements.append((path, op != "!=", value))

    def matches(obj: dict[str, Any]) -> bool:
        return all((_field_value(obj, path) == value) == equal for path, equal, value in requirements)

    return matches

