"""Tests only: encrypt a document the way sops does, so the rules can be tested on files we shape.

The reverse of `updater.agent.sops`, written separately from it (its rule logic is re-stated here,
not imported), with the same primitives: pyrage for the age stanza, cryptography's AESGCM with
32-byte nonces, SHA-512 over Go-spelled values. Emits YAML (PyYAML, key order kept) or JSON.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from typing import Any

import pyrage  # type: ignore[import-untyped]
import yaml
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

LASTMODIFIED = "2026-12-01T20:00:00Z"


def enc(value: Any, key: bytes, aad: str) -> str:
    if isinstance(value, bool):
        kind, plain = "bool", ("True" if value else "False")
    elif isinstance(value, int):
        kind, plain = "int", str(value)
    elif isinstance(value, float):
        kind, plain = "float", repr(value)
    else:
        kind, plain = "str", str(value)
    if plain == "" and kind == "str":
        return ""
    iv = os.urandom(32)
    out = AESGCM(key).encrypt(iv, plain.encode(), aad.encode())
    b64 = base64.b64encode
    return f"ENC[AES256_GCM,data:{b64(out[:-16]).decode()},iv:{b64(iv).decode()},tag:{b64(out[-16:]).decode()},type:{kind}]"


def _encrypted(path: tuple[str, ...], rules: dict[str, Any]) -> bool:
    if "encrypted_regex" in rules:
        return any(re.search(rules["encrypted_regex"], p) for p in path)
    if "unencrypted_regex" in rules:
        return not any(re.search(rules["unencrypted_regex"], p) for p in path)
    if "encrypted_suffix" in rules:
        return any(p.endswith(rules["encrypted_suffix"]) for p in path)
    suffix = rules.get("unencrypted_suffix", "_unencrypted")
    return not any(p.endswith(suffix) for p in path)


def _mac_text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def encrypt(doc: dict[str, Any], recipient: str, *, rules: dict[str, Any] | None = None, as_json: bool = False,
            mac_only_encrypted: bool = False, raw_mac_values: dict[tuple[str, ...], str] | None = None) -> str:
    """`doc` encrypted for `recipient`. `raw_mac_values` gives the MAC text of chosen leaves (by path)
    when the YAML text will spell them differently from `str()` (e.g. `yes`)."""
    rules = dict(rules or {})
    key = os.urandom(32)
    digest = hashlib.sha512()
    if mac_only_encrypted:
        digest.update(hashlib.sha256(b"sops").digest())
    raw = raw_mac_values or {}

    def walk(value: Any, path: tuple[str, ...]) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, path) for v in value]
        if value is None:
            return None
        encrypted = _encrypted(path, rules)
        if not mac_only_encrypted or encrypted:
            digest.update(raw.get(path, _mac_text(value)).encode())
        return enc(value, key, ":".join(path) + ":") if encrypted else value

    body = walk(doc, ())
    armored = pyrage.encrypt(key, [pyrage.x25519.Recipient.from_str(recipient)], armored=True).decode()
    meta: dict[str, Any] = {"age": [{"recipient": recipient, "enc": armored}], "lastmodified": LASTMODIFIED,
                            "mac": enc(digest.hexdigest().upper(), key, LASTMODIFIED), **rules, "version": "3.10.2"}
    if mac_only_encrypted:
        meta["mac_only_encrypted"] = True
    body["sops"] = meta
    if as_json:
        return json.dumps(body, indent=1)
    return yaml.safe_dump(body, sort_keys=False, width=4096)
