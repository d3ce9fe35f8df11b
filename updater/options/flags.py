"""The argparse flags of a command, generated from the options table.

Every parser default is None (a switch: False): "was this flag given?" is then a plain `is None`
test in `updater.options.resolve`, never a comparison with the built-in default. The built-in
default is shown in the help text instead, taken from the table. No I/O.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from updater.options.table import OPTIONS, Command, Option, for_command


def add_flags(parser: argparse.ArgumentParser | argparse._ArgumentGroup, command: Command, *, rows: tuple[Option, ...] = OPTIONS) -> None:
    """Add the command's flags (bump: in its groups; rebase: in one list)."""
    groups: dict[str, Any] = {}
    for row in for_command(command, rows):
        target: Any = parser
        if command == "bump":
            if row.group not in groups:
                groups[row.group] = parser.add_argument_group(row.group)
            target = groups[row.group]
        target.add_argument(row.flag, **_argument(row, command))


def _argument(row: Option, command: Command) -> dict[str, Any]:
    text = row.help_for.get(command, row.help)
    kwargs: dict[str, Any] = {"dest": row.dest, "help": _with_default(text, row)}
    if row.kind == "bool":
        if row.negatable:
            kwargs.update(action=argparse.BooleanOptionalAction, default=None)
        else:
            kwargs.update(action="store_true", default=None)
        return kwargs
    if row.kind == "list":
        kwargs.update(action="append", default=None)
    elif row.kind in ("int", "float"):
        kwargs["type"] = int if row.kind == "int" else float
    if row.choices:
        kwargs["choices"] = row.choices
    if row.metavar:
        kwargs["metavar"] = row.metavar
    if command in row.required_for:
        kwargs["required"] = True
    return kwargs


def _with_default(text: str, row: Option) -> str:
    """Help shows a built-in default that says something (not False, empty or already in the text)."""
    if row.default in (None, False, ()) or "default" in text:
        return text
    return f"{text} (default: {row.default})"


def given_flags(values: Mapping[str, Any], command: Command, *, rows: tuple[Option, ...] = OPTIONS) -> dict[str, Any]:
    """The flags actually given on the command line (dest -> value), from parsed values."""
    return {row.dest: values[row.dest] for row in for_command(command, rows) if values.get(row.dest) is not None}
