"""Fixtures for the registry tests: one real registry per test session (per xdist worker), with
repositories named per test so tests never see each other's tags."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.registry.server import Registry


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    with Registry(tmp_path_factory.mktemp("registry")) as server:
        yield server


@pytest.fixture()
def repo_name(request: pytest.FixtureRequest) -> str:
    """A repository name unique to the test (registry names are lowercase)."""
    name = request.node.name.lower()
    return "tests/" + "".join(c if c.isalnum() else "-" for c in name).strip("-")[:100]


@pytest.fixture()
def logged_in(registry: Registry, monkeypatch: pytest.MonkeyPatch) -> Registry:
    """The registry, with its login in DOCKER_AUTH_CONFIG (as a CI job or the watch Secret gives it)."""
    monkeypatch.setenv("DOCKER_AUTH_CONFIG", registry.auth_config())
    return registry
