"""SemVer ranges as npm and Flux write them, over `updater.versions.Version`. Pure.

    ~1.4      >=1.4.0 <1.5.0       ~1.4.2   >=1.4.2 <1.5.0     ~1   >=1.0.0 <2.0.0
    ^1.2      >=1.2.0 <2.0.0       ^0.2.3   >=0.2.3 <0.3.0     ^0.0.3  >=0.0.3 <0.0.4
    1.4.x     >=1.4.0 <1.5.0       1.x / 1  >=1.0.0 <2.0.0     * / x   any release
    >=1.4 <2  both (space = and)   ^1 || ^3 either (|| = or)   =1.4.2 / 1.4.2  exactly

Pre-releases (`1.5.0-rc.1`) never match unless asked for (`prerelease=True`), or a comparator of
the same alternative names a pre-release of the same version (`>=1.5.0-rc.0` admits
`1.5.0-rc.2`, not `1.6.0-rc.1`): npm's rule, so `^1.2` never proposes an rc. Upper bounds exclude
the next version's pre-releases (`~1.4` does not admit `1.5.0-rc.1` even with prerelease=True).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

from updater.versions import Version

_PARTIAL = re.compile(
    r"(?P<op>>=|<=|>|<|=|~>?|\^)?\s*[vV]?(?P<major>\d+|[xX*])(?:\.(?P<minor>\d+|[xX*]))?"
    r"(?:\.(?P<patch>\d+|[xX*]))?(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?"
)
_OPS: dict[str, Callable[[Version, Version], bool]] = {
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt, "=": operator.eq,
}
_LOWEST_PRE = (0,)  # `1.5.0-0` sorts before every other pre-release of 1.5.0


class InvalidRange(ValueError):
    """The text is not a range; the message says which part."""


@dataclass(frozen=True)
class Comparator:
    op: str  # >=, <=, >, <, =
    version: Version

    def allows(self, version: Version) -> bool:
        return _OPS[self.op](version, self.version)


@dataclass(frozen=True)
class Alternative:
    comparators: tuple[Comparator, ...]
    pre_releases: frozenset[tuple[int, ...]]  # releases whose pre-releases a comparator named

    def allows(self, version: Version, *, prerelease: bool) -> bool:
        if version.pre and not prerelease and _release(version) not in self.pre_releases:
            return False
        return all(c.allows(version) for c in self.comparators)


@dataclass(frozen=True)
class Range:
    text: str
    alternatives: tuple[Alternative, ...]

    def allows(self, version: Version, *, prerelease: bool = False) -> bool:
        return any(a.allows(version, prerelease=prerelease) for a in self.alternatives)


def parse_range(text: str) -> Range:
    if not text.strip():
        raise InvalidRange("empty range")
    return Range(text, tuple(_alternative(part, text) for part in text.split("||")))


def _alternative(part: str, whole: str) -> Alternative:
    comparators: list[Comparator] = []
    pre: set[tuple[int, ...]] = set()
    position, part = 0, part.strip()
    if not part:
        raise InvalidRange(f"{whole!r}: empty alternative around '||'")
    while position < len(part):
        match = _PARTIAL.match(part, position)
        if match is None or match.end() == position or (match.end() < len(part) and not part[match.end()].isspace()):
            raise InvalidRange(f"{whole!r}: cannot read {part[position:].split()[0]!r} "
                               "(expected e.g. ~1.4, ^1.2, >=1.4 <2, 1.4.x)")
        found = _expand(match)
        comparators += found
        if match["pre"]:
            pre.add(_release(found[0].version))
        position = match.end()
        while position < len(part) and part[position].isspace():
            position += 1
    return Alternative(tuple(comparators), frozenset(pre))


def _expand(match: re.Match[str]) -> list[Comparator]:
    """One written comparator as primitive ones (a tilde is a lower and an upper bound)."""
    op = match["op"] or ""
    parts = [match["major"], match["minor"], match["patch"]]
    known = []
    for item in parts:
        if item is None or not item.isdigit():
            break
        known.append(int(item))
    pre = tuple(int(p) if p.isdigit() else p for p in match["pre"].split(".")) if match["pre"] else ()
    if len(known) < 3:
        pre = ()  # `1.4-rc` is not a version; read the pre-release only on full versions
    floor = Version(tuple(known + [0] * (3 - len(known))), pre)
    if not known:
        return [] if op in ("", "=", ">=", "<=") else [Comparator("<", Version((0, 0, 0), _LOWEST_PRE))]
    if op in ("~", "~>"):
        upper = _bump(known[:2] if len(known) > 1 else known)
        return [Comparator(">=", floor), Comparator("<", upper)]
    if op == "^":
        first_nonzero = next((i for i, n in enumerate(known) if n), len(known) - 1)
        upper = _bump(known[: first_nonzero + 1])
        return [Comparator(">=", floor), Comparator("<", upper)]
    if len(known) < 3:  # a partial version is the range of everything it names
        if op in ("", "="):
            return [Comparator(">=", floor), Comparator("<", _bump(known))]
        if op == ">":
            return [Comparator(">=", _bump(known))]
        if op == "<=":
            return [Comparator("<", _bump(known))]
        if op == "<":
            return [Comparator("<", Version(floor.release, _LOWEST_PRE))]
    return [Comparator(op or "=", floor)]


def _bump(known: list[int]) -> Version:
    """The lowest version above everything `known` names: [1, 4] → 1.5.0-0."""
    release = known[:-1] + [known[-1] + 1]
    return Version(tuple(release + [0] * (3 - len(release))), _LOWEST_PRE)


def _release(version: Version) -> tuple[int, ...]:
    release = version.release + (0,) * (3 - len(version.release))
    return release
