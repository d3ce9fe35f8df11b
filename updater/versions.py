"""Reading image tags as versions, to refuse downgrades. Pure: no I/O.

A tag is a version when it is an optional `v`, dot-separated numbers, an optional `-pre.release`
and an optional `+build` (`1.10`, `v2.3.4`, `1.4.0-rc.1`, `1.25.3-alpine`). Anything else (commit
SHAs, `latest`, `main-3f2a1c`) is not a version and is never ordered: such a bump is always allowed.
Ordering follows SemVer 2.0 precedence, extended to any number of numeric parts (missing parts
count as 0, so `1.10` == `1.10.0` > `1.9`); build metadata is ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

_VERSION = re.compile(
    r"[vV]?(?P<release>\d+(?:\.\d+)*)(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?"
)
# Long all-digit tags are dates or build numbers at best and abbreviated SHAs at worst; a 40-char
# SHA made of digits only must not be read as version 1e39.
_MAX_NUMBER_DIGITS = 12


@total_ordering
@dataclass(frozen=True)
class Version:
    release: tuple[int, ...]
    pre: tuple[int | str, ...] = ()

    def _key(self, width: int) -> tuple[object, ...]:
        release = self.release + (0,) * (width - len(self.release))
        # A release sorts after its pre-releases; numeric identifiers sort before alphanumeric ones.
        pre = tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in self.pre)
        return (release, not self.pre, pre)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        width = max(len(self.release), len(other.release))
        return self._key(width) < other._key(width)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        width = max(len(self.release), len(other.release))
        return self._key(width) == other._key(width)

    def __hash__(self) -> int:
        release = list(self.release)
        while release and release[-1] == 0:
            release.pop()
        return hash((tuple(release), self.pre))


def parse_version(tag: str) -> Version | None:
    """The version a tag reads as, or None when it is not a version."""
    match = _VERSION.fullmatch(tag)
    if match is None:
        return None
    parts = match["release"].split(".")
    if any(len(part) > _MAX_NUMBER_DIGITS for part in parts):
        return None
    pre = tuple(int(p) if p.isdigit() else p for p in match["pre"].split(".")) if match["pre"] else ()
    return Version(tuple(int(p) for p in parts), pre)


def is_downgrade(old_tag: str | None, new_tag: str | None) -> bool:
    """True when both tags read as versions and the new one is lower."""
    if not old_tag or not new_tag:
        return False
    old, new = parse_version(old_tag), parse_version(new_tag)
    return old is not None and new is not None and new < old
