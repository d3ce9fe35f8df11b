"""Read a `Policy` from a config mapping (the agent config's `policy:` or `.updater.yml`'s), strictly:
an unknown key, a wrong type or an unknown rule name is `BadInput` naming the source and the key, so a
typo never silently turns a rule off. Keys may be spelled with `-` or `_` (`forbid-mutable-tags`,
`forbid_mutable_tags`), matching the file they live in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from updater.errors import BadInput
from updater.policy.model import RULES, Exemption, MajorNeeds, Policy, RegistryRule

_FLAGS = ("forbid-mutable-tags", "forbid-privileged", "forbid-host-path", "forbid-host-network")
_LISTS = ("mutable-tags", "digest-required-in", "tag-patterns")
_KNOWN = {*_FLAGS, *_LISTS, "allowed-registries", "exemptions", "major-needs"}


def policy_from_mapping(data: object, *, source: str) -> Policy:
    """`source` names where the mapping came from (`agent config /etc/updater/agent.yaml`)."""
    if data is None:
        return Policy()
    table = _mapping(data, f"{source}: policy")
    unknown = sorted(set(table) - _KNOWN)
    if unknown:
        raise BadInput(f"{source}: policy: unknown key {unknown[0]!r} (known: {', '.join(sorted(_KNOWN))})")
    fields: dict[str, Any] = {}
    for key in _FLAGS:
        if key in table:
            if not isinstance(table[key], bool):
                raise BadInput(f"{source}: policy.{key}: expected true or false, got {table[key]!r}")
            fields[key.replace("-", "_")] = table[key]
    for key in _LISTS:
        if key in table:
            fields[key.replace("-", "_")] = _strings(table[key], f"{source}: policy.{key}")
    if "allowed-registries" in table:
        fields["allowed_registries"] = tuple(
            _registry_rule(item, f"{source}: policy.allowed-registries[{i}]")
            for i, item in enumerate(_list(table["allowed-registries"], f"{source}: policy.allowed-registries")))
    if "exemptions" in table:
        fields["exemptions"] = tuple(
            _exemption(item, f"{source}: policy.exemptions[{i}]")
            for i, item in enumerate(_list(table["exemptions"], f"{source}: policy.exemptions")))
    if "major-needs" in table:
        fields["major_needs"] = _major_needs(table["major-needs"], f"{source}: policy.major-needs")
    return Policy(**fields)


def _major_needs(item: object, where: str) -> MajorNeeds:
    table = _mapping(item, where)
    unknown = sorted(set(table) - {"label", "reviewer"})
    values = {key: table.get(key) for key in ("label", "reviewer")}
    if unknown or not any(values.values()) or not all(v is None or (isinstance(v, str) and v) for v in values.values()):
        raise BadInput(f"{where}: expected `label: NAME` and/or `reviewer: USER`, got {sorted(table)}")
    return MajorNeeds(label=values["label"], reviewer=values["reviewer"])


def _mapping(data: object, where: str) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise BadInput(f"{where}: expected a mapping, got {type(data).__name__}")
    return {str(k).replace("_", "-"): v for k, v in data.items()}


def _list(data: object, where: str) -> list[Any]:
    if not isinstance(data, list):
        raise BadInput(f"{where}: expected a list, got {type(data).__name__}")
    return data


def _strings(data: object, where: str) -> tuple[str, ...]:
    items = [data] if isinstance(data, str) else _list(data, where)
    if not all(isinstance(item, str) and item for item in items):
        raise BadInput(f"{where}: expected a list of non-empty strings")
    return tuple(items)


def _registry_rule(item: object, where: str) -> RegistryRule:
    if isinstance(item, str):
        return RegistryRule((item,))
    table = _mapping(item, where)
    unknown = sorted(set(table) - {"registries", "namespaces"})
    if unknown or "registries" not in table:
        raise BadInput(f"{where}: expected `registries:` (and optionally `namespaces:`), got {sorted(table)}")
    return RegistryRule(_strings(table["registries"], f"{where}.registries"),
                        _strings(table.get("namespaces", []), f"{where}.namespaces"))


def _exemption(item: object, where: str) -> Exemption:
    table = _mapping(item, where)
    unknown = sorted(set(table) - {"rule", "objects", "images"})
    rule = table.get("rule")
    if unknown or rule not in (*RULES, "*"):
        raise BadInput(f"{where}: expected `rule:` (one of {', '.join(RULES)}, or *) with `objects:` and/or `images:`")
    exemption = Exemption(str(rule), _strings(table.get("objects", []), f"{where}.objects"),
                          _strings(table.get("images", []), f"{where}.images"))
    if not exemption.objects and not exemption.images:
        raise BadInput(f"{where}: an exemption names the `objects:` or `images:` it covers")
    return exemption
