"""Commit identities ("Name <email>"): parsing the flag value, and the bot identity used by default.

Pure values; where an identity comes from (flag, environment, git config) is decided by the caller.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from updater.errors import BadInput

_IDENTITY = re.compile(r"^\s*(?P<name>[^<>]*?)\s*<(?P<email>[^<>\s]+)>\s*$")


@dataclass(frozen=True)
class Identity:
    name: str
    email: str

    @classmethod
    def parse(cls, text: str, *, flag: str = "--author") -> Identity:
        """`Name <email>` as git writes it; raises BadInput naming `flag` otherwise."""
        match = _IDENTITY.match(text)
        if not match or not match["name"]:
            raise BadInput(f"{flag} {text!r} is not 'Name <email>': write it as git does, e.g. 'CI Bot <ci@example.com>'")
        return cls(match["name"], match["email"])

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


# Used when neither a flag, the GIT_AUTHOR_* environment nor git config names anyone: a commit must
# still say who made it, and this one says "a machine did".
BOT = Identity("updater-bot", "updater-bot@users.noreply.localhost")
