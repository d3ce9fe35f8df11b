"""The `.updater.yml` JSON Schema, generated: a fixed frame (version, promotion, defaults, apps,
environments) around one `settings` entry per config row of the options table.

The shipped file `updater/schemas/updater-config.schema.json` (for editors' YAML language servers)
is this output; a test keeps them equal. Regenerate it with
`python -m updater.options.schema > updater/schemas/updater-config.schema.json`. No I/O but that.
"""

from __future__ import annotations

import json
from typing import Any

from updater.options.table import OPTIONS, Option, config_rows

_FRAME_DESCRIPTION = ("updater's per-repository configuration: named targets (app x environment) and the bump "
                      "settings each one uses. Settings merge defaults < app < environment; command-line flags "
                      "win over all of them.")

_BY_KIND: dict[str, dict[str, Any]] = {
    "bool": {"type": "boolean"}, "int": {"type": "integer"}, "float": {"type": "number"},
    "list": {"$ref": "#/$defs/strings"}, "str": {"type": "string", "minLength": 1},
}


def setting_schema(row: Option) -> dict[str, Any]:
    """The JSON Schema of one config key, from its row."""
    if row.schema is not None:
        entry: dict[str, Any] = dict(row.schema)
    elif row.choices:
        entry = {"enum": list(row.choices)}
    else:
        entry = dict(_BY_KIND[row.kind])
    entry = {**entry, "description": row.config_help or f"{row.help}: {row.flag}."}
    return entry


def config_schema(rows: tuple[Option, ...] = OPTIONS) -> dict[str, Any]:
    settings = {row.config_key: setting_schema(row) for row in config_rows(rows)}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": ".updater.yml",
        "description": _FRAME_DESCRIPTION,
        "type": "object",
        "required": ["apps"],
        "additionalProperties": False,
        "properties": {
            "version": {"description": "Format version; only 1 exists.", "const": 1},
            "promotion": {
                "description": "The order environments are promoted in. `--target APP` (no environment) means "
                               "the app's first environment in this order.",
                "type": "array", "items": {"$ref": "#/$defs/name"}, "uniqueItems": True, "minItems": 1,
            },
            "defaults": {"description": "Settings every target starts from.", "$ref": "#/$defs/settings",
                         "unevaluatedProperties": False},
            "apps": {
                "description": "Apps by name; each has environments, and a target is named APP/ENVIRONMENT.",
                "type": "object", "minProperties": 1, "propertyNames": {"$ref": "#/$defs/name"},
                "additionalProperties": {"$ref": "#/$defs/app"},
            },
        },
        "$defs": {
            "name": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]*$"},
            "strings": {"type": "array", "items": {"type": "string", "minLength": 1}},
            "template": {"type": "string", "minLength": 1},
            "settings": {"type": "object", "properties": settings},
            "app": {
                "$ref": "#/$defs/settings",
                "properties": {
                    "image": {"description": "The image this app's targets bump; --image must name it (any tag or "
                                             "digest).", "type": "string", "minLength": 1},
                    "environments": {
                        "type": "object", "minProperties": 1, "propertyNames": {"$ref": "#/$defs/name"},
                        "additionalProperties": {"$ref": "#/$defs/settings", "unevaluatedProperties": False},
                    },
                },
                "required": ["environments"],
                "unevaluatedProperties": False,
            },
        },
    }


def render(rows: tuple[Option, ...] = OPTIONS) -> str:
    return json.dumps(config_schema(rows), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(render(), end="")
