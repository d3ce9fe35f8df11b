"""Parsing `WWW-Authenticate` challenges (RFC 7235) as registries send them. Pure.

    Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:acme/api:pull"
    Basic realm="Registry Realm"

Only the first challenge is read: registries send one. Quoted values may hold commas and escaped
quotes; unquoted values end at a comma.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*(?:,|$)')


@dataclass(frozen=True)
class Challenge:
    scheme: str  # lowercase: "bearer" or "basic" (others are refused by the caller)
    params: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")


def parse_challenge(header: str | None) -> Challenge | None:
    """The challenge in a `WWW-Authenticate` value, or None when there is none or it is garbled."""
    if not header or not header.strip():
        return None
    scheme, _, rest = header.strip().partition(" ")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", scheme):
        return None
    params: dict[str, str] = {}
    position = 0
    rest = rest.strip()
    while position < len(rest):
        match = _PARAM.match(rest, position)
        if match is None or match.end() == position:
            break  # a second challenge or junk: keep what we read
        key = match[1].lower()
        value = match[2] if match[2] is not None else match[3]
        params.setdefault(key, re.sub(r"\\(.)", r"\1", value))
        position = match.end()
    return Challenge(scheme.lower(), MappingProxyType(params))
