"""Tag policies on literal tag lists: which tag each kind picks, and what it ignores."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from updater.registry.policy import RegexPolicy, SemverPolicy, newest_regex, newest_semver
from updater.registry.semver import parse_range

TAGS = ["latest", "1.3.9", "1.4.0", "1.4.3", "1.4.4-rc.1", "1.5.0", "2.0.0", "main-3f2a1c", "v1.4.2", "1.4"]


def semver(text: str, *, prerelease: bool = False) -> SemverPolicy:
    return SemverPolicy(parse_range(text), prerelease=prerelease)


def test_semver_picks_the_highest_in_range_and_ignores_the_rest() -> None:
    assert newest_semver(TAGS, semver("~1.4")) == "1.4.3"
    assert newest_semver(TAGS, semver("^1.2")) == "1.5.0"
    assert newest_semver(TAGS, semver(">=1.4 <2")) == "1.5.0"
    assert newest_semver(TAGS, semver("*")) == "2.0.0"
    assert newest_semver(TAGS, semver("~3")) is None


def test_semver_pre_releases_only_when_asked() -> None:
    assert newest_semver(TAGS, semver("~1.4", prerelease=True)) == "1.4.4-rc.1"


def test_semver_prefers_the_most_specific_of_equal_versions() -> None:
    assert newest_semver(["1.4", "1.4.0"], semver("~1.4")) == "1.4.0"
    assert newest_semver(["v2.1.0", "2.1.0"], semver("^2")) in ("2.1.0", "v2.1.0")


def test_regex_lexical_numeric_and_created() -> None:
    tags = ["main-9", "main-10", "main-x", "dev-99", "main-2"]
    assert newest_regex(tags, RegexPolicy(re.compile(r"^main-"))) == "main-x"  # lexical
    assert newest_regex(tags, RegexPolicy(re.compile(r"^main-(\d+)$"), "numeric")) == "main-10"
    assert newest_regex(tags, RegexPolicy(re.compile(r"^main-(?P<key>\d+)$"), "numeric")) == "main-10"
    times = {"main-9": datetime(2026, 3, 2, tzinfo=timezone.utc), "main-10": datetime(2026, 3, 1, tzinfo=timezone.utc),
             "main-2": None}
    assert newest_regex(tags, RegexPolicy(re.compile(r"^main-\d+$"), "created"), times) == "main-9"
    assert newest_regex(tags, RegexPolicy(re.compile(r"^nothing$"))) is None
