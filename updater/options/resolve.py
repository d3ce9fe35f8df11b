"""Precedence, decided once per option: flag > environment > `.updater.yml` layers (highest first:
the target's environment, its app, `defaults:`) > the table's built-in default.

A flag counts as given when the parser produced a value for it (parser defaults are None), so a
flag equal to the built-in default still beats a configured setting (`--merge-method squash` over
`merge-method: merge`; `--no-draft` over `draft: true`). Lists replace, they do not add up. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from updater.options.table import Option


def resolve(rows: Sequence[Option], *, flags: Mapping[str, Any], env: Mapping[str, str],
            layers: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """dest -> value for every row. `layers` are config settings keyed by config key, highest first."""
    return {row.dest: _frozen(_value(row, flags, env, layers)) for row in rows}


def _value(row: Option, flags: Mapping[str, Any], env: Mapping[str, str],
           layers: Sequence[Mapping[str, Any]]) -> Any:
    if flags.get(row.dest) is not None:
        return flags[row.dest]
    if row.from_env is not None:
        from_env = row.from_env(env)
        if from_env is not None:
            return from_env
    if row.config_key is not None:
        for layer in layers:
            if row.config_key in layer:
                return layer[row.config_key]
    return row.default


def _frozen(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value
