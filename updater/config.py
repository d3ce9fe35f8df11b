""".updater.yml: named targets (app x environment) and the bump settings each one uses.

    updater bump --image ghcr.io/acme/api:1.4.2 --target api/staging

reads the manifest repository's `.updater.yml`, finds app `api`, environment `staging`, and fills in
its paths, mode, labels, reviewers, templates... The file is read only when `--target` is given:
from `--config FILE`, else `.updater.yml` (or `.yaml`) at the root of `--dir` (local mode) or of
the repository's `--branch` / default branch (repo modes, before the mode is chosen, since a target
can set the mode and branch). Precedence (resolved in `updater.options.resolve`), highest first:

  1. command-line flags (given means given: a flag equal to the built-in default still wins);
  2. environment variables the option reads (e.g. GIT_AUTHOR_NAME/EMAIL);
  3. the environment's settings, then the app's, then `defaults:`;
  4. the built-in defaults of the options table.

Lists replace, they do not add up (an environment's `labels` replace the app's). `{app}` and
`{environment}` in the branch and templates are filled in. The file is validated against the JSON
Schema shipped in `updater/schemas/updater-config.schema.json`; an invalid file is `BadInput`
naming the file, line and key.

Pure except `read_config` (which reads one file; the remote read is `updater.repo_config`, and
choosing which file is `updater.options.request`'s). jsonschema enters here for the config (and in
`updater.bump.kube_schema` for Kubernetes objects).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from updater.errors import BadInput
from updater.manifests.yaml import Mapping as YamlMapping
from updater.manifests.yaml import Scalar, Sequence, YamlNode, YamlSyntaxError, parse_documents
from updater.options.schema import config_schema
from updater.options.table import config_rows

CONFIG_NAMES = (".updater.yml", ".updater.yaml")

# the settings keys a target may set: the config rows of the options table
SETTINGS: frozenset[str] = frozenset(row.config_key for row in config_rows() if row.config_key)
_FILLED = ("branch", "pr-branch", "title", "body", "message")

Lines = dict[tuple[str | int, ...], int]


@dataclass(frozen=True)
class Target:
    name: str  # "api/staging"
    app: str
    environment: str
    image: str | None  # the app's image name, when the config names it
    settings: Mapping[str, Any] = field(default_factory=dict)  # merged: defaults < app < environment


@dataclass(frozen=True)
class Config:
    source: str  # the file name used in messages
    data: Mapping[str, Any]

    @property
    def promotion(self) -> tuple[str, ...]:
        return tuple(self.data.get("promotion", ()))

    def environments(self, app: str) -> tuple[str, ...]:
        """The app's environments, in promotion order when there is one, else as written."""
        names = tuple(self.data["apps"][app]["environments"])
        order = self.promotion
        return tuple(sorted(names, key=order.index)) if order else names

    def target_names(self) -> tuple[str, ...]:
        return tuple(f"{app}/{env}" for app in self.data["apps"] for env in self.environments(app))

    def target(self, name: str) -> Target:
        """The target `app/environment`, or `app` alone for its first environment."""
        app, _, env = name.partition("/")
        apps = self.data["apps"]
        if app not in apps or (env and env not in apps[app]["environments"]):
            known = ", ".join(self.target_names())
            raise BadInput(f"--target {name!r} is not in {self.source} (targets: {known})")
        env = env or self.environments(app)[0]
        app_data = apps[app]
        merged: dict[str, Any] = {}
        for layer in (self.data.get("defaults", {}), app_data, app_data["environments"][env]):
            merged.update({k: v for k, v in layer.items() if k in SETTINGS})
        for key in _FILLED:
            if key in merged:
                merged[key] = merged[key].replace("{app}", app).replace("{environment}", env)
        return Target(f"{app}/{env}", app, env, app_data.get("image"), merged)


def parse_config(text: str, *, source: str = ".updater.yml") -> Config:
    """Parse and validate; any problem is `BadInput` naming `source`, the line and the key."""
    try:
        documents = parse_documents(text)
    except YamlSyntaxError as err:
        line = re.search(r"line (\d+)", str(err))
        detail = re.sub(r'\s*in "<[^>]*>", line \d+, column \d+', "", str(err))
        raise BadInput(f"{source}:{line[1] if line else 1}: not valid YAML: {detail}") from err
    if len(documents) != 1:
        raise BadInput(f"{source}:1: expected one YAML document, found {len(documents)}")
    lines: Lines = {(): 1}
    data = _to_data(documents[0], text, (), lines, source)
    _validate(data, lines, source)
    _check_promotion(data, lines, source)
    _check_templates(data, lines, source)
    return Config(source, data)


def _check_templates(data: Mapping[str, Any], lines: Lines, source: str) -> None:
    """A template from the repository is untrusted: malformed, or reaching past a plain field, is
    BadInput naming the file, line and key (`updater.templates` has the rules)."""
    from updater.templates import check_shape

    layers: list[tuple[tuple[str | int, ...], Any]] = [(("defaults",), data.get("defaults"))]
    for app, app_data in data.get("apps", {}).items():
        layers.append((("apps", app), app_data))
        for env, env_data in app_data.get("environments", {}).items():
            layers.append((("apps", app, "environments", env), env_data))
    for path, layer in layers:
        for key in _FILLED:
            value = layer.get(key) if isinstance(layer, Mapping) else None
            if isinstance(value, str):
                check_shape(value, where=f"{source}:{_line(lines, (*path, key))}: {_dotted((*path, key))}")


def _to_data(node: YamlNode, text: str, path: tuple[str | int, ...], lines: Lines, source: str) -> Any:
    """Plain Python values (YAML 1.2 core schema) and each key's line, for messages."""
    if isinstance(node, Scalar):
        return _resolve_scalar(node)
    if isinstance(node, Sequence):
        items = []
        for index, item in enumerate(node.items):
            lines[path + (index,)] = item.line if isinstance(item, Scalar) else text.count("\n", 0, item.start) + 1
            items.append(_to_data(item, text, path + (index,), lines, source))
        return items
    assert isinstance(node, YamlMapping)
    result: dict[str, Any] = {}
    for key, value in node.pairs:
        if not isinstance(key, Scalar):
            raise BadInput(f"{source}:{text.count(chr(10), 0, key.start) + 1}: keys must be plain strings")
        name = key.value
        if name in result:
            raise BadInput(f"{source}:{key.line}: {_dotted(path + (name,))}: duplicate key")
        lines[path + (name,)] = key.line
        result[name] = _to_data(value, text, path + (name,), lines, source)
    return result


_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")


def _resolve_scalar(scalar: Scalar) -> Any:
    if scalar.style:  # quoted or block: always a string
        return scalar.value
    value = scalar.value
    if value in ("", "~", "null", "Null", "NULL"):
        return None
    if value in ("true", "True", "TRUE", "false", "False", "FALSE"):
        return value.lower() == "true"
    if _INT.fullmatch(value):
        base = {"0o": 8, "0x": 16}.get(value[:2], 10)
        return int(value[2:] if base != 10 else value, base)
    if _FLOAT.fullmatch(value):
        return float(value)
    return value


@cache
def schema() -> dict[str, Any]:
    """Generated from the options table (the shipped schema file is the same, checked by a test)."""
    return config_schema()


def _validate(data: Any, lines: Lines, source: str) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    problems = []
    for error in validator.iter_errors(data):
        path = tuple(error.absolute_path)
        message = error.message
        if error.validator in ("additionalProperties", "unevaluatedProperties"):
            extra = sorted(set(error.instance) - _allowed_keys(path))
            if extra:
                path, message = path + (extra[0],), f"unknown key (known keys: {', '.join(sorted(_allowed_keys(path)))})"
        elif error.validator == "required":
            message = error.message.replace("is a required property", "is missing")
        problems.append((_line(lines, path), path, message))
    if problems:
        problems.sort(key=lambda p: p[0])
        line, path, message = problems[0]
        more = f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})" if len(problems) > 1 else ""
        where = _dotted(path) or "top level"
        raise BadInput(f"{source}:{line}: {where}: {message}{more}")


def _allowed_keys(path: tuple[str | int, ...]) -> set[str]:
    if not path:
        return {"version", "promotion", "policy", "defaults", "apps"}
    if path[-1] == "watch":  # `updater watch`'s settings (updater.registry.spec reads them)
        return {"image", "policy"}
    if path[-2:] == ("watch", "policy"):
        return {"semver", "prerelease", "regex", "sort", "follow"}
    if len(path) == 2 and path[0] == "apps":
        return set(SETTINGS) | {"image", "environments", "watch", "policy"}
    return set(SETTINGS) | {"watch", "policy"}


def _check_promotion(data: Mapping[str, Any], lines: Lines, source: str) -> None:
    order = data.get("promotion")
    if not order:
        return
    for app, app_data in data["apps"].items():
        for env in app_data["environments"]:
            if env not in order:
                path = ("apps", app, "environments", env)
                raise BadInput(f"{source}:{_line(lines, path)}: {_dotted(path)}: environment {env!r} is not "
                               f"in promotion ({', '.join(order)}); add it there")


def _line(lines: Lines, path: tuple[str | int, ...]) -> int:
    while path not in lines:
        path = path[:-1]
    return lines[path]


def _dotted(path: tuple[str | int, ...]) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else p for p in path).replace(".[", "[")


def read_config(path: Path, *, source: str | None = None) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise BadInput(f"cannot read config file {source or path}: {err.strerror if isinstance(err, OSError) else err}") from err
    return parse_config(text, source=source or str(path))


def find_config(root: Path) -> Path | None:
    """`.updater.yml` (or `.yaml`) at the root of a manifest tree, if there is one.

    The tree is untrusted: a config that is a symlink (to /etc/passwd, to a file outside the clone)
    is refused without being read, so no error message can print what it points at."""
    for name in CONFIG_NAMES:
        path = root / name
        if path.is_symlink():
            raise BadInput(f"{name}: is a symlink; updater reads the tree's config only as a regular file "
                           "inside it (commit the file itself, or give --config)")
        if path.is_file():
            return path
    return None

