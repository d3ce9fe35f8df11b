"""Age identities the operator gives the agent, and opening a file's data key with them.

The one door to `pyrage` (the age implementation, Rust `age` crate bindings). Identities come from
an age key file's text (`AGE-SECRET-KEY-1…` lines, `#` comments), as sops' `SOPS_AGE_KEY` and
`SOPS_AGE_KEY_FILE` hold them; reading the file is the caller's job. An `Identities` never shows a
secret key in its repr or in an error: only the public recipients. Pure apart from decryption.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyrage  # type: ignore[import-untyped]  # no type hints shipped; used in this module only
from pyrage import x25519

from updater.agent.sops.errors import BadIdentity, MalformedSopsFile, NoMatchingIdentity


@dataclass(frozen=True)
class Identities:
    recipients: tuple[str, ...]  # the public keys: safe to print
    _keys: tuple[Any, ...] = field(default=(), repr=False, compare=False)

    def __bool__(self) -> bool:
        return bool(self._keys)


NO_IDENTITIES = Identities(())


def parse_identities(texts: Iterable[tuple[str, str]]) -> Identities:
    """Identities from (source name, key file text) pairs; a bad line is named by source and number."""
    keys: list[Any] = []
    recipients: list[str] = []
    for source, text in texts:
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if not line.upper().startswith("AGE-SECRET-KEY-1"):
                raise BadIdentity(f"{source}: line {number} is not an age identity (AGE-SECRET-KEY-1...); "
                                  "post-quantum and ssh identities are not supported")
            try:
                identity = x25519.Identity.from_str(line)
            except (pyrage.IdentityError, ValueError):
                # `from None`: the library's message may quote the line, which is a secret key
                raise BadIdentity(f"{source}: line {number} is not a valid age identity") from None
            keys.append(identity)
            recipients.append(str(identity.to_public()))
    return Identities(tuple(recipients), tuple(keys))


def open_data_key(stanzas: list[tuple[str, str]], identities: Identities, *, source: str) -> bytes:
    """The 32-byte data key from the first (recipient, armored age file) stanza an identity opens."""
    if not identities:
        raise NoMatchingIdentity(f"{source}: encrypted with sops, but the agent has no age identity: give "
                                 "--age-key-file, SOPS_AGE_KEY_FILE or SOPS_AGE_KEY")
    for _recipient, armored in stanzas:
        try:
            key = pyrage.decrypt(armored.encode(), list(identities._keys))
        except pyrage.DecryptError:
            continue
        if not isinstance(key, bytes) or len(key) != 32:
            raise MalformedSopsFile(f"{source}: the age-encrypted data key is not 32 bytes")
        return key
    wanted = ", ".join(r for r, _ in stanzas) or "none"
    raise NoMatchingIdentity(f"{source}: not encrypted for the agent's age identities (file's age recipients: "
                             f"{wanted}; agent's: {', '.join(identities.recipients)}): add the agent's "
                             "recipient with `sops updatekeys` or `sops -r --add-age`")
