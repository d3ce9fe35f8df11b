"""Byte-minimal edits of YAML text: replace a scalar, add or remove a mapping key. Pure.

Every function returns `Edit`s (a span of the original text and what goes there) computed from
node positions; `splice` applies them to the original string. Nothing is ever re-serialised, so
comments, quoting, indentation, flow style, anchors, separators and line ends stay as they were.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from updater.manifests.yaml import Mapping, Scalar, YamlNode, source_spelling


class EditConflict(ValueError):
    """Two edits want different text for overlapping spans."""


@dataclass(frozen=True)
class Edit:
    start: int
    end: int
    text: str
    structural: bool = False  # adds or removes a key (rather than replacing one scalar's text)


# Plain scalars a YAML 1.1 or 1.2 loader (go-yaml in kubectl and Flux, PyYAML, ruamel) would read as
# something other than a string. Quoting them is required to keep the value a string; quoting a few
# strings that did not need it (timestamps) is harmless.
_NON_STRING = re.compile(
    r"""(?x)
      ~ | null | Null | NULL | true | True | TRUE | false | False | FALSE
    | y | Y | yes | Yes | YES | n | N | no | No | NO | on | On | ON | off | Off | OFF
    | [-+]?(?:0|[1-9][0-9_]*)                                     # int
    | [-+]?0[0-7_]+ | 0o[0-7]+ | [-+]?0x[0-9a-fA-F_]+ | [-+]?0b[01_]+ # octal, hex, binary
    | [-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?            # sexagesimal (1.1)
    | [-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?  # float
    | [-+]?\.(?:inf|Inf|INF) | \.(?:nan|NaN|NAN)
    | [0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt ].*)?                   # timestamp
    | = | <<
    """
)
_PLAIN_SAFE = re.compile(r"[A-Za-z0-9_./+][A-Za-z0-9_./@:+=-]*")  # no leading indicator (- @ = ...)


def needs_quotes(value: str) -> bool:
    """True when `value` written as a plain scalar would not read back as this string."""
    return _NON_STRING.fullmatch(value) is not None or _PLAIN_SAFE.fullmatch(value) is None or value.endswith(":")


def render_scalar(value: str, style: str) -> str:
    """`value` written in the given quoting style, switching plain to double quotes when required."""
    if style == "" and needs_quotes(value):
        style = '"'
    spelled = source_spelling(value, style if style in ("", "'", '"') else '"')
    if spelled is None:
        raise ValueError(f"cannot write {value!r} as a one-line YAML scalar")
    return spelled


def replace_scalar(scalar: Scalar, value: str) -> Edit:
    if not scalar.editable:
        raise ValueError("the value is not written on one line without escapes")
    return Edit(scalar.start, scalar.end, render_scalar(value, scalar.style))


def set_key(text: str, mapping: Mapping, key: str, value: str) -> Edit:
    """Replace `key`'s scalar value, or add `key: value` as the mapping's last entry."""
    existing = mapping.get(key)
    if isinstance(existing, Scalar):
        return replace_scalar(existing, value)
    if existing is not None:
        raise ValueError(f"{key} is not a plain value")
    last_value = mapping.pairs[-1][1]
    entry = f"{key}: {render_scalar(value, '')}"
    if mapping.flow:
        return Edit(last_value.end, last_value.end, f", {entry}", structural=True)
    first_key = mapping.pairs[0][0]
    line_start = text.rfind("\n", 0, first_key.start) + 1
    indent = " " * (first_key.start - line_start)
    at = _content_end(text, last_value.end)
    newline = "\r\n" if text[at:at + 2] == "\r\n" or (at == len(text) and "\r\n" in text) else "\n"
    return Edit(at, at, f"{newline}{indent}{entry}", structural=True)


def delete_key(text: str, mapping: Mapping, key: str) -> Edit:
    """Remove `key` and its value (and a comment after it on its line) from the mapping."""
    index = next(i for i, (k, _) in enumerate(mapping.pairs) if isinstance(k, Scalar) and k.value == key)
    key_node, value = mapping.pairs[index]
    if index + 1 < len(mapping.pairs):
        return Edit(_start(key_node), _start(mapping.pairs[index + 1][0]), "", structural=True)
    if index == 0:
        raise ValueError(f"cannot remove the only key {key}")
    previous = mapping.pairs[index - 1][1]
    if mapping.flow:
        return Edit(previous.end, value.end, "", structural=True)
    return Edit(_content_end(text, previous.end), _content_end(text, value.end), "", structural=True)


def splice(text: str, edits: Iterable[Edit]) -> str:
    """Apply non-overlapping edits (identical duplicates allowed) to `text`."""
    ordered = sorted(dict.fromkeys(edits), key=lambda e: (e.start, e.end))  # stable: inserts keep order
    out: list[str] = []
    position = 0
    for edit in ordered:
        if edit.start < position:
            raise EditConflict(f"conflicting edits at character {edit.start}")
        out.append(text[position:edit.start])
        out.append(edit.text)
        position = edit.end
    out.append(text[position:])
    return "".join(out)


def _content_end(text: str, index: int) -> int:
    """Where the line holding `index` ends, before its `\n` or `\r\n` (or len(text))."""
    end = text.find("\n", index)
    if end < 0:
        return len(text)
    return end - 1 if end > 0 and text[end - 1] == "\r" else end


def _start(node: YamlNode) -> int:
    if isinstance(node, Scalar):
        if not node.editable:
            raise ValueError("key is not a plain one-line scalar")
        return node.start
    return node.start
