"""Which tag a watched image should move to, given its tags and a policy. Pure: no I/O.

Three kinds of policy (one per watched image, from `.updater.yml` `watch.policy`):
  semver: RANGE   the highest version in range (`~1.4`, `^1.2`, `>=1.4 <2`); tags that are not
                  versions are ignored; pre-releases only with `prerelease: true`.
  regex: PATTERN  tags the pattern finds (Python `re.search`: anchor with ^...$), highest by `sort`:
                  lexical (default), numeric (the named group `key`, else group 1, else the
                  whole tag, read as a number), or created (the image config's build time).
  follow: TAG     a mutable tag (`latest`, `stable`) pinned by digest: the reference becomes
                  `name:TAG@<its digest now>`, so a push to the tag becomes a bump.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Literal

from updater.registry.semver import Range
from updater.versions import parse_version

Sort = Literal["lexical", "numeric", "created"]


@dataclass(frozen=True)
class SemverPolicy:
    range: Range
    prerelease: bool = False  # release trains should not be offered an rc unless asked

    def describe(self) -> str:
        return f"semver {self.range.text}" + (" (pre-releases too)" if self.prerelease else "")


@dataclass(frozen=True)
class RegexPolicy:
    pattern: re.Pattern[str]
    sort: Sort = "lexical"

    def describe(self) -> str:
        return f"regex {self.pattern.pattern} by {self.sort}"


@dataclass(frozen=True)
class FollowPolicy:
    tag: str

    def describe(self) -> str:
        return f"follow {self.tag} by digest"


Policy = SemverPolicy | RegexPolicy | FollowPolicy


def newest_semver(tags: Iterable[str], policy: SemverPolicy) -> str | None:
    """The highest tag in range; among equal versions (`1.4` and `1.4.0`) the most specific one."""
    allowed = []
    for tag in tags:
        version = parse_version(tag)
        if version is not None and policy.range.allows(version, prerelease=policy.prerelease):
            allowed.append((version, len(version.release), tag))
    return max(allowed)[2] if allowed else None


def regex_candidates(tags: Iterable[str], policy: RegexPolicy) -> list[str]:
    """The tags the pattern finds (for `created`, the ones whose build time must be read)."""
    return [tag for tag in tags if policy.pattern.search(tag)]


def newest_regex(tags: Iterable[str], policy: RegexPolicy,
                 created: Mapping[str, datetime | None] | None = None) -> str | None:
    """The highest matching tag by the policy's sort (ties broken by the tag, lexically).

    `created` maps candidates to build times (required for sort=created); tags without a time, or
    without a number for sort=numeric, are not candidates.
    """
    keyed: list[tuple[object, str]] = []
    for tag in regex_candidates(tags, policy):
        if policy.sort == "lexical":
            keyed.append((tag, tag))
        elif policy.sort == "numeric":
            number = _number(tag, policy.pattern)
            if number is not None:
                keyed.append((number, tag))
        else:
            when = (created or {}).get(tag)
            if when is not None:
                keyed.append((when, tag))
    return max(keyed)[1] if keyed else None


def _number(tag: str, pattern: re.Pattern[str]) -> Decimal | None:
    match = pattern.search(tag)
    if match is None:
        return None
    if "key" in pattern.groupindex:
        text = match["key"]
    elif pattern.groups:
        text = match[1]
    else:
        text = tag
    try:
        return Decimal(text) if text is not None and re.fullmatch(r"-?\d+(?:\.\d+)?", text) else None
    except InvalidOperation:
        return None
