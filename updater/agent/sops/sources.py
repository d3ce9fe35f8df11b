"""The I/O edge of sops decryption: the agent's age identities, and the checkout's sops files.

`load_identities` reads `--age-key-file`/`age_key_files` (e.g. a Secret mounted as a file),
`SOPS_AGE_KEY_FILE` and `SOPS_AGE_KEY` (the key text itself), as sops reads them; never anything
from the repository being deployed. Errors name the flag or variable, never the key, and each key
is registered with `updater.secrets` for masking. `checkout_originals` finds, for a built
document, the files of the checkout that carry its sops MAC (hidden directories and symlinks
skipped, as the renderer does).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from updater.agent.sops.built import Originals
from updater.agent.sops.errors import BadIdentity
from updater.agent.sops.identities import Identities, parse_identities
from updater.secrets import register_secret


def load_identities(files: Sequence[Path], env: Mapping[str, str]) -> Identities:
    """Every identity in `files`, `$SOPS_AGE_KEY_FILE` and `$SOPS_AGE_KEY` (none given: no identities)."""
    texts: list[tuple[str, str]] = []
    named = [(f"--age-key-file {path}", Path(path)) for path in files]
    if env.get("SOPS_AGE_KEY_FILE"):
        named.append((f"SOPS_AGE_KEY_FILE ({env['SOPS_AGE_KEY_FILE']})", Path(env["SOPS_AGE_KEY_FILE"])))
    for source, path in named:
        try:
            texts.append((source, path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as err:
            reason = getattr(err, "strerror", None) or "not UTF-8 text"
            raise BadIdentity(f"{source}: cannot read the age key file ({reason})") from err
    if env.get("SOPS_AGE_KEY"):
        texts.append(("SOPS_AGE_KEY", env["SOPS_AGE_KEY"]))
    for _, text in texts:  # masked in every log line and error from now on, should one ever quote a key
        for line in text.splitlines():
            if line.strip().upper().startswith("AGE-SECRET-KEY-"):
                register_secret(line.strip())
    identities = parse_identities(texts)
    if texts and not identities:
        raise BadIdentity(f"{texts[0][0]}: holds no age identity (AGE-SECRET-KEY-1... lines)")
    return identities


def checkout_originals(root: Path) -> Originals:
    """A lookup of the checkout's files holding a given sops MAC (read once, on first use)."""
    index: list[tuple[str, bytes]] | None = None

    def find(mac: str) -> list[tuple[str, bytes]]:
        nonlocal index
        if index is None:
            index = list(_sops_files(root))
        return [(name, data) for name, data in index if mac.encode() in data]

    return find


def _sops_files(root: Path) -> list[tuple[str, bytes]]:
    found = []
    for current, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(current, name)
            if name.endswith((".yaml", ".yml", ".json")) and not path.is_symlink():
                data = path.read_bytes()
                if b"ENC[AES256_GCM" in data:
                    found.append((os.path.relpath(path, root), data))
    return found
