"""Decrypt sops-encrypted manifests (YAML and JSON, age recipients) in memory, verifying the MAC.

The job: text of a file (or of a kustomize build) in, decrypted documents out, or a named error
(`NoMatchingIdentity`, `MacMismatch`, `MalformedSopsFile`, `UnsupportedSopsFile`). It follows
getsops/sops exactly where the agent can see what sops sees: `values` (aes/cipher.go), `tree`
(sops.go: shouldBeEncrypted, Decrypt, the MAC), `metadata` (stores/stores.go), `yamltree`
(stores/yaml with go-yaml v3 typing), JSON via the standard library (stores/json). Age is
`pyrage`, AES-GCM is `cryptography`. Pure apart from age decryption: no files, no network, and
no plaintext in any message.

Not implemented, refused with a clear error: comment-based rules (`encrypted_comment_regex`,
`unencrypted_comment_regex`: the loader does not keep comments; comments are never in the MAC, so
everything else is exact), Shamir key groups, non-age master keys.

Where the agent decrypts (`updater.agent.render`):
- a plain file that carries a `sops:` block is decrypted as one unit, as `sops -d` would (the
  metadata of the first document covers every document of the file);
- a Kustomize tree is decrypted AFTER `kustomize build`, each rendered document that still
  carries `sops:` on its own. kustomize reads files from disk, and decrypting before the build
  would mean writing plaintext to a temporary tree (KSOPS and Flux's generator sources do); after
  the build, the plaintext only ever lives in this process. Flux's kustomize-controller also
  decrypts the built resources, but skips the MAC there because kustomize edits them; the agent
  keeps the MAC: encrypt with `--mac-only-encrypted` (sops >= 3.9) when the kustomization changes
  the Secret (namespace, labels, name prefix), so the MAC covers the encrypted values only; a
  Secret kustomize leaves alone verifies with the plain MAC too. A multi-document sops file
  cannot pass through kustomize (its MAC spans the documents): keep one Secret per file.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Sequence
from typing import Any

from updater.agent.sops.errors import (BadIdentity, MacMismatch, MalformedSopsFile, NoMatchingIdentity, SopsError,
                                       UnsupportedSopsFile)
from updater.agent.sops.identities import NO_IDENTITIES, Identities, open_data_key, parse_identities
from updater.agent.sops.metadata import parse_metadata
from updater.agent.sops.tree import decrypt_branches
from updater.agent.sops.values import decrypt_value
from updater.agent.sops.yamltree import load_documents

__all__ = ["BadIdentity", "Identities", "MacMismatch", "MalformedSopsFile", "NO_IDENTITIES", "NoMatchingIdentity",
           "SopsError", "UnsupportedSopsFile", "carries_sops", "decrypt_documents", "decrypt_text",
           "parse_identities"]


def carries_sops(document: object) -> bool:
    """True for a document with a top-level `sops` entry (sops' HasSopsTopLevelKey)."""
    return isinstance(document, dict) and "sops" in document


def decrypt_text(text: str | bytes, identities: Identities, *, source: str, json_format: bool = False) -> list[Any]:
    """Every document of a sops file, decrypted; the first document's `sops` entry covers them all."""
    documents = _load(text, source=source, json_format=json_format)
    if not documents or not carries_sops(documents[0]):
        raise MalformedSopsFile(f"{source}: sops metadata not found (the first document has no `sops` entry)")
    return _decrypt_unit(documents, identities, source=source)


def decrypt_documents(text: str | bytes, identities: Identities, *, source: str) -> list[Any]:
    """A rendered stream (kustomize output): each document carrying `sops` is decrypted on its own."""
    documents = _load(text, source=source, json_format=False)
    out: list[Any] = []
    for index, document in enumerate(documents, start=1):
        if carries_sops(document):
            out.extend(_decrypt_unit([document], identities, source=f"{source} document {index}"))
        else:
            out.append(document)
    return out


def _load(text: str | bytes, *, source: str, json_format: bool) -> list[Any]:
    if not json_format:
        return load_documents(text, source=source)
    try:
        return [json.loads(text)]  # dicts keep the file's key order, which is the MAC's order
    except ValueError as err:
        raise MalformedSopsFile(f"{source}: not valid JSON: {err}") from err


def _decrypt_unit(documents: Sequence[Any], identities: Identities, *, source: str) -> list[Any]:
    metadata = parse_metadata(documents[0]["sops"], source=source)
    branches = []
    for index, document in enumerate(documents, start=1):
        if document is None:
            continue  # an empty document: sops keeps no branch for it
        if not isinstance(document, dict):
            raise UnsupportedSopsFile(f"{source}: document {index} is not a mapping; sops supports mappings only")
        branches.append({k: v for k, v in document.items() if k != "sops"})
    key = open_data_key(list(metadata.age), identities, source=source)
    decrypted, computed = decrypt_branches(branches, metadata.rules, key, source=source)
    if not metadata.mac:
        raise MacMismatch(f"{source}: the file has no sops MAC, so its integrity cannot be checked: "
                          "re-encrypt it with sops")
    stored = decrypt_value(metadata.mac, key, metadata.mac_aad, where=f"{source}: sops.mac")
    if not isinstance(stored, str) or not hmac.compare_digest(stored.encode(), computed.encode()):
        raise MacMismatch(f"{source}: MAC mismatch: the file was changed without sops (a value, key or their "
                          "order) or kustomize edited it: re-encrypt with sops (with --mac-only-encrypted "
                          "when a kustomization changes the object)")
    return decrypted
