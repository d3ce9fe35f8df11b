"""SemVer ranges: literal ranges against literal versions, and a property: a range never admits a
pre-release unless asked."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from updater.registry.semver import InvalidRange, parse_range
from updater.versions import Version, parse_version


def allows(text: str, version: str, *, prerelease: bool = False) -> bool:
    parsed = parse_version(version)
    assert parsed is not None
    return parse_range(text).allows(parsed, prerelease=prerelease)


@pytest.mark.parametrize(("text", "inside", "outside"), [
    ("~1.4", ["1.4.0", "1.4.9", "v1.4.12", "1.4"], ["1.3.9", "1.5.0", "2.0.0"]),
    ("~1.4.2", ["1.4.2", "1.4.3"], ["1.4.1", "1.5.0"]),
    ("~1", ["1.0.0", "1.9.9"], ["2.0.0", "0.9.0"]),
    ("^1.2", ["1.2.0", "1.99.0"], ["1.1.9", "2.0.0"]),
    ("^0.2.3", ["0.2.3", "0.2.9"], ["0.3.0", "0.2.2"]),
    ("^0.0.3", ["0.0.3"], ["0.0.4", "0.0.2"]),
    (">=1.4 <2", ["1.4.0", "1.9.0"], ["1.3.9", "2.0.0"]),
    (">1.4", ["1.5.0"], ["1.4.9", "1.4.0"]),
    ("<=1.4", ["1.4.9", "1.0.0"], ["1.5.0"]),
    ("1.4.x", ["1.4.0", "1.4.7"], ["1.5.0"]),
    ("1.x", ["1.0.0", "1.9.0"], ["2.0.0"]),
    ("*", ["0.0.1", "99.0.0"], []),
    ("=1.4.2", ["1.4.2", "v1.4.2"], ["1.4.3"]),
    ("^1 || ^3", ["1.5.0", "3.1.0"], ["2.0.0", "4.0.0"]),
])
def test_ranges(text: str, inside: list[str], outside: list[str]) -> None:
    assert [v for v in inside if not allows(text, v)] == []
    assert [v for v in outside if allows(text, v)] == []


def test_pre_releases_are_off_unless_asked_or_named() -> None:
    assert not allows("~1.4", "1.4.3-rc.1")
    assert allows("~1.4", "1.4.3-rc.1", prerelease=True)
    # the upper bound excludes the next version's pre-releases even when they are allowed
    assert not allows("~1.4", "1.5.0-rc.1", prerelease=True)
    # a comparator naming a pre-release admits that version's pre-releases only
    assert allows(">=1.5.0-rc.0", "1.5.0-rc.2")
    assert not allows(">=1.5.0-rc.0", "1.6.0-rc.1")
    assert allows(">=1.5.0-rc.0", "1.6.0")


@pytest.mark.parametrize("text", ["", "~", "1.4 ||", "banana", ">=1.4<2", "~1.2.3.4"])
def test_invalid(text: str) -> None:
    with pytest.raises(InvalidRange):
        parse_range(text)


numbers = st.integers(min_value=0, max_value=50)


@given(numbers, numbers, numbers, st.sampled_from(["rc.1", "alpha", "0", "beta.2"]),
       st.sampled_from(["*", ">=0", "^0", "^1", "~1.4", ">=1.4 <2", "1.x", "<99"]))
def test_a_pre_release_never_matches_unless_asked(major: int, minor: int, patch: int, pre: str, text: str) -> None:
    version = parse_version(f"{major}.{minor}.{patch}-{pre}")
    assert version is not None
    assert not parse_range(text).allows(version)


@given(numbers, numbers, numbers)
def test_tilde_is_the_same_minor_at_or_above(major: int, minor: int, patch: int) -> None:
    version = Version((major, minor, patch))
    assert parse_range("~1.4.2").allows(version) == ((major, minor) == (1, 4) and patch >= 2)
