"""Decrypt the documents of a kustomize build that still carry `sops:` (why after the build: see the package).

Each such document is traced to the sops file it came from by its `sops.mac` text (unique per
encryption: it holds a random nonce), through `originals`, which the caller answers from the
checkout. Every file carrying that MAC is decrypted and verified whole (`unit.open_file`), and
its metadata must equal the document's; the document's encrypted values are then decrypted with
that file's data key, each authenticated by AES-GCM with its key path as additional data. Pure:
the caller reads the files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from updater.agent.sops.errors import MacMismatch, MalformedSopsFile
from updater.agent.sops.identities import Identities
from updater.agent.sops.tree import decrypt_branches
from updater.agent.sops.unit import Opened, carries_sops, load, open_file, strip_metadata
from updater.agent.sops.yamltree import load_documents

# (mac text) -> [(file name, file text)] of the checkout's files holding it
Originals = Callable[[str], Sequence[tuple[str, bytes]]]


def decrypt_documents(text: str | bytes, identities: Identities, *, source: str, originals: Originals,
                      parsed: Sequence[Any] | None = None) -> list[Any]:
    """A rendered stream (kustomize output): each document carrying `sops` decrypted on its own. The
    others are taken from `parsed` (the caller's own loading of `text`) when given, so a sops Secret
    in a build does not change how its neighbours are typed."""
    typed = load_documents(text, source=source)
    out = list(typed if parsed is None else parsed)
    if len(out) != len(typed):
        raise MalformedSopsFile(f"{source}: the documents could not be matched up for sops decryption")
    for index, document in enumerate(typed):
        if carries_sops(document):
            out[index] = _decrypt_built(document, identities, source=f"{source} document {index + 1}",
                                        originals=originals)
    return out


def _decrypt_built(document: dict[str, Any], identities: Identities, *, source: str, originals: Originals) -> Any:
    raw = document["sops"]
    mac = raw.get("mac") if isinstance(raw, dict) else None
    if not isinstance(mac, str) or not mac:
        raise MacMismatch(f"{source}: the document has no sops MAC, so its integrity cannot be checked: "
                          "re-encrypt its file with sops")
    verified: Opened | None = None
    for name, text in originals(mac):
        try:
            candidates = load(text, source=name, json_format=name.endswith(".json"))
        except MalformedSopsFile:
            continue  # mentions the MAC text without being a sops file of it (a note, a README)
        if not candidates or not carries_sops(candidates[0]) or candidates[0]["sops"] != raw:
            continue
        verified = open_file(text, identities, source=name, json_format=name.endswith(".json"))
    if verified is None:
        raise MacMismatch(f"{source}: no sops file in the repository carries this document's metadata, so its MAC "
                          "cannot be checked (was the sops block edited, or does it come from a remote base?)")
    [branch] = strip_metadata([document], source=source)
    try:
        decrypted, _ = decrypt_branches([branch], verified.metadata.rules, verified.data_key, source=source)
    except MalformedSopsFile as err:
        raise MalformedSopsFile(f"{err} (a value the kustomization added or changed falls under the file's "
                                "encryption rules: encrypt with --encrypted-regex '^(data|stringData)$')") from err
    return decrypted[0]
