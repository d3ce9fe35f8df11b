"""Load a sops YAML file as sops reads it: go-yaml v3 scalar rules, document order, no merge keys applied.

sops hashes every value as go-yaml v3 typed it, so the agent's own loader (YAML 1.1: `yes` is a
boolean, timestamps become datetimes) would compute a different MAC for the same file. This module
composes PyYAML nodes (the same C parser the agent uses) and types plain scalars the v3 way: only
true/false booleans, ints in Go's base-0 syntax with `_` removed, timestamps kept as strings,
`<<` kept as an ordinary key (sops walks the node tree and does not merge). Duplicate keys are
refused, as sops refuses them. Pure: no I/O.
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml
from yaml.resolver import Resolver

from updater.agent.sops.errors import MalformedSopsFile, UnsupportedSopsFile

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR = "tag:yaml.org,2002:str"
_TYPED = {f"tag:yaml.org,2002:{t}" for t in ("int", "float", "bool", "null")}
_NULLS = {"", "~", "null", "Null", "NULL"}
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_SPECIAL = {**{s: math.inf for s in (".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF")},
            **{s: -math.inf for s in ("-.inf", "-.Inf", "-.INF")},
            **{s: math.nan for s in (".nan", ".NaN", ".NAN")}}
_GO_INT = re.compile(r"^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$")
_YAML_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_resolver = Resolver()


def load_documents(text: str | bytes, *, source: str) -> list[Any]:
    """Every document of `text` (None for an empty one). Raises `MalformedSopsFile`."""
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.YAMLError as err:
        raise MalformedSopsFile(f"{source}: not valid YAML: {' '.join(str(err).split())}") from err
    return [None if node is None else _value(node, source=source) for node in nodes]


def _value(node: yaml.Node, *, source: str) -> Any:
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _value(key_node, source=source)
            if not isinstance(key, str):
                raise UnsupportedSopsFile(f"{source}: key {key!r} is not a string; sops supports only string keys")
            if key in out:
                raise MalformedSopsFile(f"{source}: key {key!r} appears twice in one mapping")
            out[key] = _value(value_node, source=source)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_value(item, source=source) for item in node.value]
    assert isinstance(node, yaml.ScalarNode)
    return _scalar(node, source=source)


def _scalar(node: yaml.ScalarNode, *, source: str) -> Any:
    value: str = node.value
    if node.style:  # quoted or block (the C parser gives "" for plain): a string unless explicitly tagged otherwise
        if node.tag == _STR:
            return value
        raise UnsupportedSopsFile(f"{source}: tag {node.tag} on a quoted scalar is not supported")
    implicit = _resolver.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    if node.tag == implicit or node.tag in _TYPED:
        return resolve_plain(value)
    if node.tag == _STR:
        return value  # an explicit !!str
    raise UnsupportedSopsFile(f"{source}: tag {node.tag} is not supported in sops files read by the agent")


def resolve_plain(value: str) -> Any:
    """A plain scalar typed as go-yaml v3 decodes it into an interface{} (resolve.go)."""
    if value in _NULLS:
        return None
    if value in _BOOLS:
        return _BOOLS[value]
    if value in _SPECIAL:
        return _SPECIAL[value]
    if not value or not (value[0].isdigit() or value[0] in "+-."):
        return value
    plain = value.replace("_", "")
    match = _GO_INT.match(plain)
    if match:
        sign, digits = match.groups()
        base = {"x": 16, "o": 8, "b": 2}.get(digits[1:2].lower(), 8 if digits.startswith("0") and len(digits) > 1 else 10)
        body = digits[2:] if base in (16, 2) or digits[1:2] in ("o", "O") else digits
        number = int(body, base) * (-1 if sign == "-" else 1)
        if number < 2**64:
            return number  # beyond int64 sops refuses the value when hashing it (mac_bytes)
    if _YAML_FLOAT.match(plain):
        return float(plain)
    return value
