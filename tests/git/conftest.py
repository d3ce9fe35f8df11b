"""Fixtures for the git edge: bare remotes on disk, served over file:// and over HTTP with a token."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gitrepos import make_remote
from updater_sandbox.git_http import GitHttpServer

TOKEN = "s3cret-token-for-tests-4242"
FILES = {
    "apps/api/deploy.yaml": "image: ghcr.io/acme/api:1.0.0\n",
    "apps/web/deploy.yaml": "image: ghcr.io/acme/web:2.0.0\n",
    "README.md": "manifests\n",
}


@pytest.fixture(autouse=True)
def _isolated_git_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """The code under test runs git with the process environment: keep the machine's config out."""
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    for name in ("GITHUB_TOKEN", "GITLAB_TOKEN"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture()
def bare(tmp_path: Path) -> Path:
    return make_remote(tmp_path / "srv", FILES, name="acme/gitops.git")


@pytest.fixture()
def server(bare: Path) -> Iterator[GitHttpServer]:
    with GitHttpServer(bare.parent.parent, token=TOKEN) as served:
        yield served
