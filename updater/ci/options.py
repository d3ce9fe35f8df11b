"""The `updater bump` options a CI step can set (the options-table rows with a CI input, see
`updater.options.table`), and the pure mapping from input values to argv.

Input names are the CLI flag names in kebab-case, with plural names for repeatable flags
(`images` -> `--image`, one per item). GitHub reads them from `INPUT_<NAME>` (the runner keeps the
hyphens), GitLab from `UPDATER_<NAME>` with hyphens as underscores. The token is never an option:
it reaches the CLI through `--token-env`, so it is never on a command line.

A switch that `.updater.yml` can also set (draft, auto-merge) has three input states: empty (the
default: the repository's setting holds), "true" (`--draft`) and "false" (`--no-draft`, which beats
a target's `draft: true`). Other switches are off unless "true".

No I/O here: values in, argument list out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from updater.errors import BadInput
from updater.options.table import OPTIONS as ROWS
from updater.options.table import Option as Row

Kind = Literal["value", "list", "bool"]


@dataclass(frozen=True)
class Option:
    name: str  # the input name, e.g. "auto-merge"
    flag: str  # the CLI flag, e.g. "--auto-merge"
    kind: Kind  # value: one string; list: newline/comma separated, one flag each; bool: a switch
    help: str
    negatable: bool = False  # a switch with a `--no-` form: "false" turns a config setting off


def ci_options(rows: tuple[Row, ...] = ROWS) -> tuple[Option, ...]:
    """The CI inputs: the options-table rows that have one, in table order."""
    kinds: dict[str, Kind] = {"list": "list", "bool": "bool"}
    return tuple(Option(row.ci_input, row.flag, kinds.get(row.kind, "value"), row.ci_help or row.help,
                        negatable=row.negatable)
                 for row in rows if row.ci_input is not None)


OPTIONS: tuple[Option, ...] = ci_options()

# YAML 1.2 core-schema booleans, as GitHub's own `core.getBooleanInput` accepts them.
_TRUE = ("true", "True", "TRUE")
_FALSE = ("false", "False", "FALSE")


def split_list(value: str) -> list[str]:
    """Items of a list input: one per line or comma separated, blanks dropped."""
    return [item.strip() for line in value.splitlines() for item in line.split(",") if item.strip()]


def parse_bool(value: str, *, name: str) -> bool:
    text = value.strip()
    if text in _TRUE:
        return True
    if text in _FALSE or not text:
        return False
    raise BadInput(f"input {name!r} must be true or false, not {text!r}")


def to_argv(values: Mapping[str, str], *, options: tuple[Option, ...] = OPTIONS) -> list[str]:
    """The `updater bump` arguments for the given inputs (name -> raw string); empty inputs are left out."""
    argv: list[str] = []
    for option in options:
        raw = values.get(option.name, "")
        if option.kind == "bool":
            if parse_bool(raw, name=option.name):
                argv.append(option.flag)
            elif option.negatable and raw.strip():  # an explicit "false", not an empty input
                argv.append("--no-" + option.flag.removeprefix("--"))
        elif option.kind == "list":
            for item in split_list(raw):
                argv += [option.flag, item]
        elif raw.strip():
            # Templates keep their inner whitespace and newlines; only the ends are trimmed.
            argv += [option.flag, raw.strip()]
    return argv
