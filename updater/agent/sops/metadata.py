"""Read a file's `sops:` block into the few facts decryption needs, refusing what the agent cannot honour.

Follows getsops/sops `stores/stores.go` (`metadata.ToInternal`, `internalKeygroups`): top-level key
lists form one key group, else `key_groups`; at most one of the suffix/regex rules, and
`unencrypted_suffix: _unencrypted` when none is set; `lastmodified` is RFC 3339 and, re-formatted
as Go's `time.RFC3339` does, is the additional data of the encrypted MAC. Only age keys are used:
pgp/kms/vault stanzas may be present and are ignored. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from updater.agent.sops.errors import MalformedSopsFile, UnsupportedSopsFile
from updater.agent.sops.tree import DEFAULT_UNENCRYPTED_SUFFIX, Rules

_RULES = ("unencrypted_suffix", "encrypted_suffix", "unencrypted_regex", "encrypted_regex")
_COMMENT_RULES = ("unencrypted_comment_regex", "encrypted_comment_regex")
_KEY_KINDS = ("age", "pgp", "kms", "gcp_kms", "hckms", "azure_kv", "hc_vault")
_RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


@dataclass(frozen=True)
class Metadata:
    rules: Rules
    age: tuple[tuple[str, str], ...]  # (recipient, armored age file holding the data key)
    mac: str  # ENC[...] of the upper-case hex SHA-512, or "" when the file has none
    mac_aad: str  # lastmodified as Go's time.RFC3339 formats it
    version: str


def parse_metadata(raw: Any, *, source: str) -> Metadata:
    if not isinstance(raw, dict):
        raise MalformedSopsFile(f"{source}: the sops entry is not a mapping")
    for name in _COMMENT_RULES:
        if raw.get(name):
            raise UnsupportedSopsFile(f"{source}: sops {name} is not supported by the agent (comments are not "
                                      "read): encrypt with --encrypted-regex or --unencrypted-suffix instead")
    set_rules = [name for name in _RULES if raw.get(name)]
    if len(set_rules) > 1:
        raise MalformedSopsFile(f"{source}: sops metadata sets {' and '.join(set_rules)}; sops allows only one")
    values = {name: raw.get(name) or "" for name in _RULES}
    if not all(isinstance(v, str) for v in values.values()):
        raise MalformedSopsFile(f"{source}: sops suffix and regex rules must be strings")
    if not set_rules:
        values["unencrypted_suffix"] = DEFAULT_UNENCRYPTED_SUFFIX
    for name in ("unencrypted_regex", "encrypted_regex"):
        try:
            re.compile(values[name])
        except re.error as err:
            raise MalformedSopsFile(f"{source}: sops {name} {values[name]!r} is not a valid regular expression") from err
    mac_only = raw.get("mac_only_encrypted", False)
    if not isinstance(mac_only, bool):
        raise MalformedSopsFile(f"{source}: sops mac_only_encrypted must be true or false")
    mac = raw.get("mac") or ""
    if not isinstance(mac, str):
        raise MalformedSopsFile(f"{source}: the sops mac is not a string")
    return Metadata(
        rules=Rules(**values, mac_only_encrypted=mac_only),
        age=_age_stanzas(raw, source=source),
        mac=mac,
        mac_aad=go_rfc3339(raw.get("lastmodified"), source=source),
        version=str(raw.get("version") or ""),
    )


def _age_stanzas(raw: dict[str, Any], *, source: str) -> tuple[tuple[str, str], ...]:
    if any(raw.get(kind) for kind in _KEY_KINDS):
        group = raw
    elif isinstance(raw.get("key_groups"), list) and raw["key_groups"]:
        if len(raw["key_groups"]) > 1:
            raise UnsupportedSopsFile(f"{source}: the data key is split across {len(raw['key_groups'])} sops key "
                                      "groups (Shamir); the agent supports one group: re-encrypt without key_groups")
        group = raw["key_groups"][0]
        if not isinstance(group, dict):
            raise MalformedSopsFile(f"{source}: sops key_groups[0] is not a mapping")
    else:
        raise MalformedSopsFile(f"{source}: no keys found in the sops metadata")
    stanzas = []
    for index, entry in enumerate(group.get("age") or []):
        if not isinstance(entry, dict) or not isinstance(entry.get("enc"), str):
            raise MalformedSopsFile(f"{source}: sops age[{index}] lacks its `enc` (the encrypted data key)")
        stanzas.append((str(entry.get("recipient", "")), entry["enc"]))
    return tuple(stanzas)


def go_rfc3339(value: Any, *, source: str) -> str:
    """`time.Parse(time.RFC3339, v).Format(time.RFC3339)`: fractions dropped, a zero offset as Z."""
    match = _RFC3339.match(value) if isinstance(value, str) else None
    if match is None:
        raise MalformedSopsFile(f"{source}: sops lastmodified {value!r} is not an RFC 3339 time")
    day, clock, _fraction, zone = match.groups()
    try:
        datetime.fromisoformat(f"{day}T{clock}")
        if zone in ("Z", "z"):
            offset = timedelta(0)
        else:
            hours, minutes = int(zone[1:3]), int(zone[4:6])
            if hours > 23 or minutes > 59:
                raise ValueError(zone)
            offset = timedelta(hours=hours, minutes=minutes)
    except ValueError as err:
        raise MalformedSopsFile(f"{source}: sops lastmodified {value!r} is not a valid time") from err
    return f"{day}T{clock}" + ("Z" if offset == timedelta(0) else zone)
