"""Tags read as versions for the downgrade rule; tags that are not versions are never ordered."""

from __future__ import annotations

import pytest

from updater.versions import Version, is_downgrade, parse_version


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("1.9", "1.10"),
        ("1.4.1", "1.4.2"),
        ("v1.9.9", "v2.0.0"),
        ("v1.4.1", "1.4.2"),
        ("1.4.0-rc.1", "1.4.0"),
        ("1.4.0-alpha", "1.4.0-beta"),
        ("1.4.0-rc.2", "1.4.0-rc.10"),
        ("1.4.0-1", "1.4.0-alpha"),
        ("1.4.0-alpha", "1.4.0-alpha.1"),
        ("1.25.3-alpine", "1.25.4-alpine"),
        ("1.9", "1.9.1"),
        ("2", "10"),
    ],
)
def test_order(lower: str, higher: str) -> None:
    low, high = parse_version(lower), parse_version(higher)
    assert low is not None and high is not None
    assert low < high and not high < low
    assert is_downgrade(higher, lower) and not is_downgrade(lower, higher)


def test_missing_parts_count_as_zero_and_build_metadata_is_ignored() -> None:
    assert parse_version("1.10") == parse_version("1.10.0") == parse_version("v1.10.0+build.7")
    assert hash(parse_version("1.10")) == hash(parse_version("1.10.0"))
    assert not is_downgrade("1.10.0", "1.10")


@pytest.mark.parametrize("tag", ["latest", "3f2a1c9", "main-3f2a1c9", "sha-abc", "1.0_beta", "1234567890123", ""])
def test_not_versions(tag: str) -> None:
    assert parse_version(tag) is None


def test_tags_that_are_not_versions_are_never_a_downgrade() -> None:
    assert not is_downgrade("2.0.0", "3f2a1c9")
    assert not is_downgrade("3f2a1c9", "1.0.0")
    assert not is_downgrade(None, "1.0.0")
    assert not is_downgrade("1.0.0", None)


def test_version_parts() -> None:
    assert parse_version("v1.2.3-rc.1") == Version((1, 2, 3), ("rc", 1))
