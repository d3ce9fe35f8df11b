"""The one door to the Kubernetes schemas: `kubernetes-validate`'s bundled JSON Schemas, offline.

Data in, violations out: a Kubernetes object (plain Python data) is checked against the schema of its
apiVersion/kind for one Kubernetes minor version; an apiVersion/kind the bundle does not know (a CRD)
is reported as unknown, never as invalid. Nothing here reads the repository or the network: the
schemas are files inside the installed package, and every `$ref` resolves inside its registry.

kubernetes-validate (Apache-2.0) supplies the schemas and their layout (`utils.schema_contents`,
and its file naming); the bundled versions are listed from its directory without importing it, so
checking --kube-version costs no import. Its `validate()` is not called per object: it
re-reads the 1.8 MB definitions file on every call (40 ms per object measured) and raises only
the first error, which cannot tell a violation the edit adds from one the object already had.
Here one jsonschema validator per (version, kind) is built once and reports every violation.
The package is imported on first use only: commands that do not validate never pay its import.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from updater.errors import BadInput

FLAG = "--kube-version"
_PIP = "pip install kubernetes-validate"
_BUNDLED = re.compile(r"v(\d+\.\d+)\.\d+-local")
_VERSION = re.compile(r"v?(\d+\.\d+)(?:\.\d+)?")
_KIND = re.compile(r"[A-Za-z][A-Za-z0-9]{0,62}")
_API_VERSION = re.compile(r"(?:[a-z0-9]([a-z0-9.-]{0,250}[a-z0-9])?/)?v[0-9a-z]{1,30}")


@dataclass(frozen=True)
class Violation:
    """One way an object breaks its schema. `rule` (the JSON Schema keyword) and `path` identify it
    across the before/after comparison; `message` says what is wrong, for people."""

    path: str  # JSON path inside the object, e.g. spec.template.spec.containers[0].image
    rule: str  # type, required, enum...
    message: str


@functools.cache
def available_versions() -> tuple[str, ...]:
    """The Kubernetes minor versions whose schemas are bundled, oldest first. Read from the package's
    directory without importing it (so checking --kube-version costs no import)."""
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        raise BadInput(f"schema validation needs the kubernetes-validate package: {_PIP} "
                       "(or pass --no-schema-validation)")
    bundle = Path(list(spec.submodule_search_locations)[0]) / "kubernetes-json-schema"
    found = {m[1] for p in bundle.iterdir() if (m := _BUNDLED.fullmatch(p.name))} if bundle.is_dir() else set()
    return tuple(sorted(found, key=lambda v: tuple(int(n) for n in v.split("."))))


def resolve_version(wanted: str | None, *, enabled: bool = True) -> str | None:
    """The minor version to validate against (`wanted`, else the newest bundled), or None when schema
    validation is off. An unknown version is bad input (exit 2) listing the bundled ones."""
    if not enabled:
        return None
    versions = available_versions()
    if not versions:
        raise BadInput(f"the installed kubernetes-validate bundles no schemas: reinstall it ({_PIP})")
    if wanted is None or not str(wanted).strip():
        return versions[-1]
    match = _VERSION.fullmatch(str(wanted).strip())
    if match is None or match[1] not in versions:
        raise BadInput(f"{FLAG} {wanted}: no Kubernetes schemas bundled for it; give one of "
                       f"{', '.join(versions)} (as X.Y), or --no-schema-validation")
    return match[1]


def violations(obj: Mapping[str, Any], version: str) -> list[Violation] | None:
    """Every violation of `obj` against its schema for Kubernetes `version`, or None when the bundle
    has no schema for its apiVersion/kind (a custom resource)."""
    validator = _validator(version, str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
    if validator is None:
        return None
    found = [Violation(_json_path(error.absolute_path), str(error.validator), _short(error.message))
             for error in validator.iter_errors(obj)]
    return sorted(set(found), key=lambda v: (v.path, v.rule, v.message))


def preload(version: str) -> None:
    """Import the validator and read the version's definitions now (a caller runs this in a thread
    while kustomize builds, so the ~0.3 s import overlaps the build instead of following it)."""
    _definitions(version)


@functools.cache
def _validator(version: str, api_version: str, kind: str) -> Any:
    # kind and apiVersion come from the repository: only names, never a path into the package
    if not (_KIND.fullmatch(kind) and _API_VERSION.fullmatch(api_version)):
        return None
    from kubernetes_validate import utils  # the import costs ~0.2 s: only when validating

    # The bundle's file naming (as `utils.validate` spells it): rbac.authorization.k8s.io/v1 -> rbac-v1
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    directory = f"kubernetes-json-schema/v{version}.0-local"
    try:
        schema = utils.schema_contents(f"{directory}/{kind.lower()}-{group}.json", version)
    except (FileNotFoundError, utils.VersionNotSupportedError):
        return None
    return _build(schema, _definitions(version))


@functools.cache
def _definitions(version: str) -> Any:
    from kubernetes_validate import utils

    return utils.schema_contents(f"kubernetes-json-schema/v{version}.0-local/_definitions.json", version)


def _build(schema: Any, definitions: Any) -> Any:
    import jsonschema
    from referencing import Registry, Resource

    # Both documents carry their own $id (https://kubernetes.io/api/...): refs resolve inside this
    # registry, never over the network (the registry has no retriever).
    registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.Draft202012Validator(schema, registry=registry)


def _json_path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(the object)"


def _short(message: str, limit: int = 200) -> str:
    """jsonschema quotes the whole offending value: a mapping of a hundred keys is cut short."""
    one_line = " ".join(message.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 3] + "..."
