"""One sops file, decrypted whole as `sops -d` does: metadata, data key, the walk, and the MAC check.

The first document's `sops` entry covers every document of the file (stores.ExtractMetadata); the
stored MAC, decrypted with `lastmodified` as additional data, must equal the one computed over the
plaintext (compared in constant time). Pure apart from age decryption.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from updater.agent.sops.errors import MacMismatch, MalformedSopsFile, UnsupportedSopsFile
from updater.agent.sops.identities import Identities, open_data_key
from updater.agent.sops.metadata import Metadata, parse_metadata
from updater.agent.sops.tree import decrypt_branches
from updater.agent.sops.values import decrypt_value
from updater.agent.sops.yamltree import load_documents


@dataclass(frozen=True)
class Opened:
    documents: tuple[Any, ...]  # decrypted, without their `sops` entries
    metadata: Metadata
    data_key: bytes = b""

    def __repr__(self) -> str:  # never the key nor the plaintext
        return f"Opened({len(self.documents)} documents)"


def carries_sops(document: object) -> bool:
    """True for a document with a top-level `sops` entry (sops' HasSopsTopLevelKey)."""
    return isinstance(document, dict) and "sops" in document


def decrypt_text(text: str | bytes, identities: Identities, *, source: str, json_format: bool = False) -> list[Any]:
    """Every document of a sops file, decrypted; the first document's `sops` entry covers them all."""
    return list(open_file(text, identities, source=source, json_format=json_format).documents)


def open_file(text: str | bytes, identities: Identities, *, source: str, json_format: bool = False) -> Opened:
    documents = load(text, source=source, json_format=json_format)
    if not documents or not carries_sops(documents[0]):
        raise MalformedSopsFile(f"{source}: sops metadata not found (the first document has no `sops` entry)")
    return open_unit(documents, identities, source=source)


def load(text: str | bytes, *, source: str, json_format: bool) -> list[Any]:
    if not json_format:
        return load_documents(text, source=source)
    try:
        return [json.loads(text)]  # dicts keep the file's key order, which is the MAC's order
    except ValueError as err:
        raise MalformedSopsFile(f"{source}: not valid JSON: {err}") from err


def open_unit(documents: Sequence[Any], identities: Identities, *, source: str) -> Opened:
    metadata = parse_metadata(documents[0]["sops"], source=source)
    branches = strip_metadata(documents, source=source)
    key = open_data_key(list(metadata.age), identities, source=source)
    decrypted, computed = decrypt_branches(branches, metadata.rules, key, source=source)
    if not metadata.mac:
        raise MacMismatch(f"{source}: the file has no sops MAC, so its integrity cannot be checked: "
                          "re-encrypt it with sops")
    stored = decrypt_value(metadata.mac, key, metadata.mac_aad, where=f"{source}: sops.mac")
    if not isinstance(stored, str) or not hmac.compare_digest(stored.encode(), computed.encode()):
        raise MacMismatch(f"{source}: MAC mismatch: the file was changed without sops (a value, a key or their "
                          "order): re-encrypt it with sops")
    return Opened(tuple(decrypted), metadata, key)


def strip_metadata(documents: Sequence[Any], *, source: str) -> list[dict[str, Any]]:
    branches = []
    for index, document in enumerate(documents, start=1):
        if document is None:
            continue  # an empty document: sops keeps no branch for it
        if not isinstance(document, dict):
            raise UnsupportedSopsFile(f"{source}: document {index} is not a mapping; sops supports mappings only")
        branches.append({k: v for k, v in document.items() if k != "sops"})
    return branches
