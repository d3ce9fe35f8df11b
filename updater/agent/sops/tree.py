"""Walk a sops tree: which values are encrypted, their decryption, and the MAC over the plaintext.

Mirrors getsops/sops `sops.go`: `shouldBeEncrypted` (suffix and regex rules, applied to every key
on the path), `Tree.Decrypt` (values in document order; the additional data is the key path joined
with ':' plus a trailing ':'; list items add no path component; nulls are skipped; the MAC is
SHA-512 over each leaf's `ToBytes`, only over encrypted leaves when `mac_only_encrypted`, then
seeded with sha256("sops")). Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from updater.agent.sops.errors import MalformedSopsFile
from updater.agent.sops.values import decrypt_value, mac_bytes

DEFAULT_UNENCRYPTED_SUFFIX = "_unencrypted"
# sops.MACOnlyEncryptedInitialization: sha256(b"sops"), so the two MAC kinds never coincide
MAC_ONLY_ENCRYPTED_SEED = hashlib.sha256(b"sops").digest()


@dataclass(frozen=True)
class Rules:
    """The encryption rules of a file's metadata (at most one of them is set, as sops requires)."""

    unencrypted_suffix: str = ""
    encrypted_suffix: str = ""
    unencrypted_regex: str = ""
    encrypted_regex: str = ""
    mac_only_encrypted: bool = False


def should_be_encrypted(rules: Rules, path: tuple[str, ...]) -> bool:
    """sops' `shouldBeEncrypted` for a leaf at `path` (the comment rules are refused earlier)."""
    encrypted = True
    if rules.unencrypted_suffix and any(p.endswith(rules.unencrypted_suffix) for p in path):
        encrypted = False
    if rules.encrypted_suffix:
        encrypted = any(p.endswith(rules.encrypted_suffix) for p in path)
    # Go's regexp.Match finds a match anywhere in the key (re.search); RE2 syntax is close to Python's
    if rules.unencrypted_regex and any(re.search(rules.unencrypted_regex, p) for p in path):
        encrypted = False
    if rules.encrypted_regex:
        encrypted = any(re.search(rules.encrypted_regex, p) for p in path)
    return encrypted


def decrypt_branches(branches: list[dict[str, Any]], rules: Rules, key: bytes, *, source: str) -> tuple[list[dict[str, Any]], str]:
    """The decrypted documents (new objects) and the MAC sops would compute over them (upper-case hex)."""
    digest = hashlib.sha512()
    if rules.mac_only_encrypted:
        digest.update(MAC_ONLY_ENCRYPTED_SEED)

    def leaf(value: Any, path: tuple[str, ...]) -> Any:
        encrypted = should_be_encrypted(rules, path)
        where = f"{source}: {'.'.join(path) or '(top)'}"
        if encrypted:
            if not isinstance(value, str):
                raise MalformedSopsFile(f"{where}: expected an encrypted value, found a {type(value).__name__}: "
                                        "re-encrypt the file with sops")
            value = decrypt_value(value, key, ":".join(path) + ":", where=where)
        if not rules.mac_only_encrypted or encrypted:
            digest.update(mac_bytes(value, where=where))
        return value

    decrypted = [_walk(branch, (), leaf) for branch in branches]
    return decrypted, digest.hexdigest().upper()


def _walk(value: Any, path: tuple[str, ...], leaf: Callable[[Any, tuple[str, ...]], Any]) -> Any:
    if isinstance(value, dict):
        return {k: _walk(v, (*path, k), leaf) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, path, leaf) for v in value]  # sops adds no index to the path
    if value is None:
        return None  # sops neither encrypts nor hashes nulls
    return leaf(value, path)
