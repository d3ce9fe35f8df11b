"""One sops value: parse `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`, decrypt it, and the bytes the MAC hashes.

Mirrors getsops/sops `aes/cipher.go` (Decrypt, the type switch, empty strings left alone) and
`sops.go` `ToBytes` (Go's number and boolean spellings). AES-GCM is `cryptography`'s; sops uses
32-byte nonces, which `AESGCM` accepts. Pure: no I/O.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from decimal import Decimal
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from updater.agent.sops.errors import MacMismatch, MalformedSopsFile, UnsupportedSopsFile

# the same pattern as sops (greedy groups, anchored only at the start): base64 holds no commas
_ENC = re.compile(r"^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]")
_GO_TRUE = {"1", "t", "T", "TRUE", "true", "True"}  # strconv.ParseBool
_GO_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def decrypt_value(value: str, key: bytes, aad: str, *, where: str) -> Any:
    """The plaintext of one sops value (typed as its `type:` says). `where` names it in errors."""
    if value == "":
        return ""  # sops neither encrypts nor decrypts empty strings
    match = _ENC.match(value)
    if match is None:
        raise MalformedSopsFile(f"{where}: the value is not in sops' ENC[AES256_GCM,...] format although the "
                                "file's rules say it is encrypted: re-encrypt the file with sops")
    try:
        data, iv, tag = (base64.b64decode(match.group(i), validate=True) for i in (1, 2, 3))
    except (binascii.Error, ValueError) as err:
        raise MalformedSopsFile(f"{where}: the encrypted value is not valid base64") from err
    kind = match.group(4)
    if len(tag) != 16 or not 8 <= len(iv) <= 128:
        raise MalformedSopsFile(f"{where}: the encrypted value has a {len(iv)}-byte iv and a {len(tag)}-byte tag")
    try:
        plain = AESGCM(key).decrypt(iv, data + tag, aad.encode())
    except InvalidTag as err:
        raise MacMismatch(f"{where}: the encrypted value fails authentication (changed, moved to another key, "
                          "or encrypted with another data key)") from err
    return _typed(plain, kind, where=where)


def _typed(plain: bytes, kind: str, *, where: str) -> Any:
    try:
        text = plain.decode("utf-8")
        if kind in ("str", "comment", "time"):
            return text  # time: the RFC 3339 text sops marshalled (its MAC bytes too)
        if kind == "int":
            if not re.fullmatch(r"[+-]?[0-9]+", text):
                raise ValueError(text)
            return int(text)
        if kind == "float":
            return float(text)
        if kind == "bool":
            if text in _GO_TRUE or text in _GO_FALSE:
                return text in _GO_TRUE
            raise ValueError(text)
        if kind == "bytes":
            return text
    except (UnicodeDecodeError, ValueError) as err:
        raise MalformedSopsFile(f"{where}: the decrypted value is not a valid {kind}") from err
    raise UnsupportedSopsFile(f"{where}: unknown sops value type {kind!r}")


def mac_bytes(value: Any, *, where: str) -> bytes:
    """What sops' `ToBytes` feeds the MAC for a leaf value."""
    if isinstance(value, bool):
        return b"True" if value else b"False"
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise UnsupportedSopsFile(f"{where}: integer out of the 64-bit range sops handles")
        return str(value).encode()
    if isinstance(value, float):
        return _go_format_float(value).encode()
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes):
        return value
    raise UnsupportedSopsFile(f"{where}: sops cannot hold a value of type {type(value).__name__}")


def _go_format_float(value: float) -> str:
    """strconv.FormatFloat(v, 'f', -1, 64): the shortest round-tripping digits, never an exponent."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text
