"""The vendored API contracts (`sandbox/updater_sandbox/contracts/`): look up an operation's response schema,
complete a body with the keys the schema requires, and validate a body against it.

Completion is why the forge can answer with GitHub's 80-key repository objects while its API modules
only spell out the keys that carry meaning: every other `required` key is filled with a neutral value
of its declared type (`null` where nullable), so responses always validate and clients that index a
key never hit a KeyError. Validation needs `openapi-schema-validator` (a test dependency), imported
only when a validator is asked for. Nothing here does I/O beyond reading the vendored files once.
"""

from __future__ import annotations

import copy
import json
import threading
from functools import cache
from pathlib import Path
from typing import Any, cast

CONTRACTS = Path(__file__).with_name("contracts")
SPEC_FILES = {"github": "github-openapi-subset.json", "gitlab": "gitlab-openapi-subset.json"}
# Operations the vendored (byte-for-byte) subsets lack, each file with its own `x-provenance`: merged in.
SUPPLEMENTS = {"github": ("github-signing-subset.json",), "gitlab": ("gitlab-signing-subset.json",)}

_validators_lock = threading.Lock()
UNIVERSAL_ERRORS = (400, 401, 403, 404, 405, 409, 422, 429)


@cache
def spec(service: str) -> dict[str, Any]:
    merged = cast(dict[str, Any], json.loads((CONTRACTS / SPEC_FILES[service]).read_text()))
    for name in SUPPLEMENTS.get(service, ()):
        extra = json.loads((CONTRACTS / name).read_text())
        merged["paths"].update(extra["paths"])
        for section, items in extra.get("components", {}).items():
            merged.setdefault("components", {}).setdefault(section, {}).update(items)
    return merged


@cache
def operations(service: str) -> dict[str, dict[str, Any]]:
    """operationId -> operation object."""
    found = {}
    for item in spec(service)["paths"].values():
        for op in item.values():
            if isinstance(op, dict) and "operationId" in op:
                found[op["operationId"]] = op
    return found


GRAPHQL_COMMITS = "github-graphql-commits.graphql"  # createCommitOnBranch / updateRefs (see PROVENANCE.md)


def graphql_sdl() -> str:
    """GitHub's GraphQL schema, cut to the types the forge resolves: the OpenAPI file's subset, then
    the commit mutations' part (which repeats `type Mutation`, `Commit` and `Ref` with its own fields)."""
    return str(spec("github")["x-github-graphql-subset"]["sdl"]) + "\n\n" + (CONTRACTS / GRAPHQL_COMMITS).read_text()


def _resolve(service: str, node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        section, name = node["$ref"].split("/")[-2:]
        node = spec(service)["components"][section][name]
    return node


def response_schema(service: str, operation_id: str, status: int) -> dict[str, Any] | None:
    """The JSON schema of `operation_id`'s `status` answer, or None when the contract declares no body."""
    op = operations(service).get(operation_id)
    if op is None:
        return None
    response = op["responses"].get(str(status))
    if response is None:
        return None
    response = _resolve(service, response)
    content = response.get("content", {}).get("application/json")
    return content["schema"] if content and "schema" in content else None


def declares(service: str, operation_id: str, status: int) -> bool:
    op = operations(service).get(operation_id)
    return op is not None and str(status) in op["responses"]


def _neutral(service: str, schema: dict[str, Any]) -> Any:
    schema = _merged(service, schema)
    if schema.get("nullable"):
        return None
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return complete_with(service, schema, {})
    return {"string": "", "integer": 0, "number": 0, "boolean": False, "array": []}.get(str(kind))


def _merged(service: str, schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with $ref resolved, allOf folded in, and the first of oneOf/anyOf chosen."""
    schema = _resolve(service, schema)
    if "allOf" in schema:
        merged: dict[str, Any] = {"properties": {}, "required": []}
        for part in schema["allOf"]:
            part = _merged(service, part)
            merged["properties"].update(part.get("properties", {}))
            merged["required"] += part.get("required", [])
            merged.update({k: v for k, v in part.items() if k not in ("properties", "required")})
        return merged
    for key in ("oneOf", "anyOf"):
        if key in schema:
            first = _merged(service, schema[key][0])
            return {**first, "nullable": schema.get("nullable", first.get("nullable", False))}
    return schema


def complete_with(service: str, schema: dict[str, Any], value: Any) -> Any:
    """`value` with every required key the schema names (recursively) filled with a neutral value."""
    schema = _merged(service, schema)
    if isinstance(value, list) and "items" in schema:
        return [complete_with(service, schema["items"], item) for item in value]
    if not isinstance(value, dict):
        return value
    props = schema.get("properties", {})
    out = dict(value)
    for key in schema.get("required", []):
        if key not in out:
            out[key] = _neutral(service, props.get(key, {}))
    for key, sub in props.items():
        if key in out and out[key] is not None:
            out[key] = complete_with(service, sub, out[key])
    return out


def complete(service: str, operation_id: str, status: int, body: Any) -> Any:
    """The forge's answer body for this operation and status, completed per the contract."""
    schema = response_schema(service, operation_id, status)
    return complete_with(service, schema, body) if schema else body


@cache
def _validator(service: str, operation_id: str, status: int) -> Any:
    from openapi_schema_validator import OAS30Validator  # test-time dependency, see module docstring

    schema = response_schema(service, operation_id, status)
    if schema is None:
        return None
    root = {k: v for k, v in copy.deepcopy(spec(service)).items() if k != "paths"}
    root.update({"$ref": "#/x-target", "x-target": copy.deepcopy(schema)})
    return OAS30Validator(_nullable_refs(root))


def _nullable_refs(node: Any) -> Any:
    """OpenAPI 3.0's `{"allOf"/"oneOf": [{"$ref": X}...], "nullable": true}` means "X or null", but
    openapi-schema-validator applies `nullable` only beside a `type`, so null fails X. Spell it out."""
    if isinstance(node, list):
        return [_nullable_refs(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {k: _nullable_refs(v) for k, v in node.items()}
    if node.get("nullable") and "type" not in node and {"allOf", "oneOf", "anyOf", "$ref"} & node.keys():
        inner = {k: v for k, v in node.items() if k != "nullable"}
        return {"anyOf": [{"type": "object", "nullable": True, "enum": [None]}, inner]}
    return node


def violations(service: str, operation_id: str, status: int, body: Any) -> list[str]:
    """Why `body` is not a valid `status` answer of the operation (empty when it is).

    A status the operation does not declare is itself a violation, except the error statuses every
    GitHub and GitLab endpoint may answer (bad JSON, authentication, missing objects, validation,
    rate limits, outages) — those must carry the service's error body.
    """
    if operation_id not in operations(service):
        return [f"{service} operation {operation_id!r} is not in the contract"]
    if not declares(service, operation_id, status):
        if status in UNIVERSAL_ERRORS or status >= 500:
            return error_body_violations(service, body)
        return [f"{operation_id} does not declare status {status}"]
    with _validators_lock:
        validator = _validator(service, operation_id, status)
    if validator is None:
        if body in (None, b"", ""):
            return []
        if status >= 400:  # the contract omits error bodies the service does send (recorded: 404, 422)
            return error_body_violations(service, body)
        return [f"{operation_id} {status} declares no body, got one"]
    return [f"{operation_id} {status}: {'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(body)]


def error_body_violations(service: str, body: Any) -> list[str]:
    if not isinstance(body, dict) or not ("message" in body or "error" in body):
        return [f"{service} error body must be an object with a message: {body!r}"]
    return []


def entry_violations(entry: Any) -> list[str]:
    """Contract violations in one answer of the forge's request log (a `forge.LoggedRequest`)."""
    if entry.status is None or entry.body is None or isinstance(entry.body, bytes):
        return []
    if entry.service in ("github", "gitlab") and entry.operation:
        problems = violations(entry.service, entry.operation, entry.status, entry.body)
    elif entry.service == "graphql":
        problems = _graphql_violations(entry.body, entry.status)
    elif entry.status >= 400 and entry.service in ("github", "gitlab"):
        problems = error_body_violations(entry.service, entry.body)
    else:
        problems = []
    return [f"{entry.method} {entry.path} -> {entry.status}: {p}" for p in problems]


def _graphql_violations(body: Any, status: int) -> list[str]:
    if status != 200:
        return [] if isinstance(body, dict) and "message" in body else [f"bad GraphQL error body {body!r}"]
    if not isinstance(body, dict) or not ({"data", "errors"} & body.keys()):
        return [f"GraphQL answer without data or errors: {body!r}"]
    # `type` is GitHub's extension: its generic "Something went wrong" error (a stale updateRefs
    # beforeOid) has none, so only the message the GraphQL spec requires is checked for those.
    return [f"GraphQL error without message/type: {e!r}" for e in body.get("errors", [])
            if "message" not in e or ("type" not in e and not str(e["message"]).startswith("Something went wrong"))]
