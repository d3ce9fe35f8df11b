"""Suite-wide fixtures. Area-specific fixtures live in each tests/<area>/conftest.py; fixtures that
other areas reuse (the local forge, the Kubernetes API emulator) are pytest plugins listed here."""

from __future__ import annotations

import pytest

from updater import secrets

pytest_plugins: list[str] = ["updater_sandbox.pytest_plugin", "updater_sandbox.kube.pytest_plugin"]


@pytest.fixture(autouse=True)
def _fresh_secret_registry():
    """Secrets registered by one test must not mask (or fail to mask) another's output."""
    secrets.forget_secrets()
    yield
    secrets.forget_secrets()
