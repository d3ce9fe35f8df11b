"""Schema validation of what a bump changes: the objects of a YAML text against the Kubernetes schemas.

Pure: YAML text in (a touched plain file, or the output of `kustomize build` of a touched tree),
a `SchemaCheck` out; `refuse_new` compares the check after the edit with the one before it and
raises `ValidationFailed` only for violations the edit adds, so an object that was already invalid
never blocks a bump. Objects are keyed by kind, namespace and name, violations by JSON path and
schema rule (not by message, which quotes the value the edit may change).

Scalars are typed as kubectl's YAML loader (go-yaml, YAML 1.1) types them: `yes`/`on` are booleans,
`010` is octal, quoted text is a string. Explicit tags (`!!str 1`) are not kept by the parser, so
such a value is typed by its spelling (the only place this can differ from kubectl).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence as Seq
from dataclasses import dataclass
from typing import Any

from updater.bump import kube_schema
from updater.errors import ValidationFailed
from updater.manifests.yaml import Mapping, Scalar, Sequence, YamlNode, YamlSyntaxError, parse_documents

log = logging.getLogger(__name__)

ORIGIN = "config.kubernetes.io/origin"  # kustomize's buildMetadata: [originAnnotations]
_ORIGIN_PATH = re.compile(r"^(?:path|configuredIn):\s*(\S+)", re.MULTILINE)
_NULL = re.compile(r"~|null|Null|NULL|")
_TRUE = re.compile(r"y|Y|yes|Yes|YES|true|True|TRUE|on|On|ON")
_FALSE = re.compile(r"n|N|no|No|NO|false|False|FALSE|off|Off|OFF")
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9_]*)")
_BASED = re.compile(r"[-+]?(?:0b[01_]+|0x[0-9a-fA-F_]+|0o?[0-7_]+)")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")


@dataclass(frozen=True)
class Problem:
    """One violation of one object; `source` is the file it came from (or the tree built)."""

    source: str
    kind: str
    name: str  # namespace/name, or name
    violation: kube_schema.Violation

    @property
    def key(self) -> tuple[str, str, str, str]:
        return self.kind, self.name, self.violation.path, self.violation.rule

    def __str__(self) -> str:
        return f"{self.source}: {self.kind} {self.name}: {self.violation.path}: {self.violation.message}"


@dataclass(frozen=True)
class SchemaCheck:
    problems: tuple[Problem, ...] = ()
    validated: int = 0  # objects whose apiVersion/kind the bundle knows
    unknown: tuple[str, ...] = ()  # "apiVersion kind" of the objects skipped (custom resources)

    def __add__(self, other: SchemaCheck) -> SchemaCheck:
        return SchemaCheck(self.problems + other.problems, self.validated + other.validated,
                           self.unknown + other.unknown)


def check_text(text: str, *, source: str, version: str, origin_prefix: str | None = None) -> SchemaCheck:
    """Every object of `text` checked against Kubernetes `version`. With `origin_prefix` the text is
    kustomize output: an object's source is its origin annotation's path with that prefix removed
    (then the annotation, which kustomize added for us, is removed before validating)."""
    documents = parse_documents(text)
    problems: list[Problem] = []
    validated, unknown = 0, []
    for obj in _objects(documents):
        where = _origin(obj, origin_prefix) or source if origin_prefix is not None else source
        kind, name = str(obj.get("kind")), _name(obj)
        found = kube_schema.violations(obj, version)
        if found is None:
            unknown.append(f"{obj.get('apiVersion')} {kind}")
            continue
        validated += 1
        problems.extend(Problem(where, kind, name, v) for v in found)
    return SchemaCheck(tuple(problems), validated, tuple(unknown))


def check_file(text: str, *, source: str, version: str) -> SchemaCheck:
    """A touched plain file; the edit leaving it unparseable is itself a violation."""
    try:
        return check_text(text, source=source, version=version)
    except YamlSyntaxError as err:
        broken = kube_schema.Violation("(the file)", "yaml", f"not valid YAML after the edit: {err}")
        return SchemaCheck((Problem(source, "file", "-", broken),))


def refuse_new(after: SchemaCheck, before: SchemaCheck | None, *, version: str) -> None:
    """Raise `ValidationFailed` naming the first violation `after` has and `before` had not."""
    old = {p.key for p in before.problems} if before else set()
    new = [p for p in after.problems if p.key not in old]
    if new:
        more = f" (and {len(new) - 1} more)" if len(new) > 1 else ""
        raise ValidationFailed(f"the edit breaks the Kubernetes {version} schema: {new[0]}{more}; nothing was "
                               "written (fix the manifest, choose --kube-version, or --no-schema-validation)")
    kept = len(after.problems)
    if kept:
        log.warning("schema: %d violation(s) were there before the edit (first: %s); not blocking on them",
                    kept, after.problems[0])


def log_summary(check: SchemaCheck, *, version: str) -> None:
    skipped = ""
    if check.unknown:
        kinds = ", ".join(sorted(set(check.unknown)))
        skipped = f"; {len(check.unknown)} object(s) of kinds without a bundled schema skipped ({kinds})"
    log.info("schema: %d object(s) checked against Kubernetes %s%s", check.validated, version, skipped)


def _objects(documents: Seq[YamlNode]) -> Iterator[dict[str, Any]]:
    """The Kubernetes objects (a mapping with apiVersion and kind) as data; a `List`'s items."""
    for document in documents:
        data = _data(document)
        if not isinstance(data, dict) or not data.get("apiVersion") or not data.get("kind"):
            continue
        items = data.get("items")
        if str(data["kind"]).endswith("List") and isinstance(items, list):
            yield from (item for item in items if isinstance(item, dict) and item.get("apiVersion") and item.get("kind"))
        else:
            yield data


def _data(node: YamlNode) -> Any:
    if isinstance(node, Scalar):
        return _typed(node)
    if isinstance(node, Sequence):
        return [_data(item) for item in node.items]
    result: dict[str, Any] = {}
    merged: dict[str, Any] = {}
    for key, value in node.pairs:
        if isinstance(key, Scalar) and key.value == "<<" and key.style == "":
            for source in value.items if isinstance(value, Sequence) else [value]:
                if isinstance(source, Mapping):
                    merged = {**_data(source), **merged}
            continue
        result[str(_data(key))] = _data(value)
    return {**merged, **result}


def _typed(scalar: Scalar) -> Any:
    text = scalar.value
    if scalar.style != "":
        return text
    if _NULL.fullmatch(text):
        return None
    if _TRUE.fullmatch(text):
        return True
    if _FALSE.fullmatch(text):
        return False
    if _INT.fullmatch(text):
        return int(text.replace("_", ""))
    if _BASED.fullmatch(text):
        digits = text.replace("_", "").lstrip("+-")
        base = {"0b": 2, "0x": 16}.get(digits[:2], 8)
        value = int(digits[2:] if base != 8 or digits.startswith("0o") else digits, base)
        return -value if text.startswith("-") else value
    if _FLOAT.fullmatch(text):
        special = text.lower().lstrip("+-")  # .inf, .nan: Python spells them without the dot
        return float(text.replace("_", "") if not special.startswith(".") or special[1:2].isdigit()
                     else text.lower().replace(".", ""))
    return text


def _name(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    assert isinstance(meta, dict)
    name = str(meta.get("name") or meta.get("generateName") or "(no name)")
    return f"{meta['namespace']}/{name}" if meta.get("namespace") else name


def _origin(obj: dict[str, Any], prefix: str | None) -> str | None:
    meta = obj.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    if not isinstance(annotations, dict) or ORIGIN not in annotations:
        return None
    origin = str(annotations.pop(ORIGIN))
    if not annotations:
        del meta["annotations"]  # type: ignore[union-attr]  # kustomize created it for the origin alone
    match = _ORIGIN_PATH.search(origin)
    return match[1].removeprefix(prefix or "") if match else None
