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


# Settings no bump/rebase flag sets: read by other commands from the same targets (`updater watch` follows a
# target's image in its registry; updater.registry.spec reads it).
_WATCH: dict[str, Any] = {
    "description": "`updater watch`: follow this target's image in its registry. Merges key by key, "
                   "defaults < app < environment.",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "image": {"type": "string", "minLength": 1,
                  "description": "The image name to watch (no tag); default: the app's image."},
        "policy": {
            "description": "Which tag to move to: exactly one of semver, regex, follow (checked by updater watch, "
                           "which names the keys found).",
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "semver": {"type": "string", "minLength": 1, "description": "A range: ~1.4, ^1.2, >=1.4 <2, 1.4.x."},
                "prerelease": {"type": "boolean", "description": "With semver: allow pre-releases (default false)."},
                "regex": {"type": "string", "minLength": 1,
                          "description": "Tags this pattern finds (re.search) are candidates."},
                "sort": {"enum": ["lexical", "numeric", "created"],
                         "description": "With regex: highest by tag, by number (group 'key', else 1), or by build "
                                        "time. Default lexical."},
                "follow": {"type": "string", "minLength": 1,
                           "description": "A mutable tag pinned by digest (name:TAG@sha256:...)."},
            },
            "minProperties": 1,
            "dependentSchemas": {"prerelease": {"required": ["semver"]}, "sort": {"required": ["regex"]}},
        },
    },
}

# `policy:` (top level, defaults, app, environment; merged key by key): the rules bump, watch and promote check
# before anything is pushed (updater.bump.governance). Its keys are checked strictly by updater.policy.parse,
# which names the file and key; the schema lists them for editors.
_POLICY: dict[str, Any] = {
    'description': 'Rules a bump must satisfy before anything is pushed (refused: exit 4, naming the rule). '
                   'Merged key by key: top level < defaults < app < environment. At bump time the environment '
                   'stands where the agent uses the namespace.',
    'type': 'object',
    'properties': {
        'allowed-registries': {'type': 'array', 'description': 'Registries (host or host/path prefix, globs) '
                               'images may come from; an entry {registries: [...], namespaces: [ENV...]} '
                               'applies to those environments only.'},
        'tag-patterns': {'$ref': '#/$defs/strings', 'description': 'A tag must match one of these globs.'},
        'digest-required-in': {'$ref': '#/$defs/strings',
                               'description': 'Environments (globs) where every image needs @sha256:...'},
        'forbid-mutable-tags': {'type': 'boolean', 'description': 'Refuse latest (and mutable-tags).'},
        'mutable-tags': {'$ref': '#/$defs/strings', 'description': 'Tags that name a moving target.'},
        'major-needs': {'type': 'object', 'additionalProperties': False, 'minProperties': 1,
                        'properties': {'label': {'type': 'string', 'minLength': 1},
                                       'reviewer': {'type': 'string', 'minLength': 1}},
                        'description': 'A major version jump needs this label or reviewer on the pull request; '
                                       'refused otherwise (and always in push or local mode).'},
        'exemptions': {'type': 'array', 'description': 'Escapes: {rule, images: [globs]}.'},
    },
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
    settings: dict[str, Any] = {row.config_key: setting_schema(row) for row in config_rows(rows) if row.config_key}
    settings["watch"] = {"$ref": "#/$defs/watch"}
    settings["policy"] = {"$ref": "#/$defs/policy"}
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
            "policy": {"$ref": "#/$defs/policy"},
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
            "watch": _WATCH,
            "policy": _POLICY,
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
