"""Helpers for the push-mode tests: manifest remotes, and the real CLI run as child processes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest

from tests.gitrepos import make_remote
from updater_sandbox.git_http import GitHttpServer

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "push-mode-token-5150-abcdef"
FAST_RETRIES = ("--retry-wait", "0.05", "--retry-wait-max", "1")

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  template:
    spec:
      containers:
{containers}"""
CONTAINER = """\
        - name: {name}
          image: {image}  # keep this comment
"""


def deployment(name: str, *images: str) -> str:
    """A Deployment whose containers use `images` (container i is named `<name>-<i>`)."""
    containers = "".join(CONTAINER.format(name=f"{name}-{i}", image=image) for i, image in enumerate(images))
    return DEPLOYMENT.format(name=name, containers=containers)


def manifest_remote(base: Path, files: Mapping[str, str] | None = None, *, name: str = "acme/gitops.git") -> Path:
    files = files or {
        "apps/api/deploy.yaml": deployment("api", "ghcr.io/acme/api:1.0.0"),
        "apps/web/deploy.yaml": deployment("web", "ghcr.io/acme/web:2.0.0"),
    }
    return make_remote(base, files, name=name)


def cli_env(tmp_path: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a CLI child: no machine git config, no stray tokens, temp dirs under tmp_path."""
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GITLAB_TOKEN") and not k.startswith("GIT_")}
    tmp = tmp_path / "cli-tmp"
    tmp.mkdir(exist_ok=True)
    env.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "TMPDIR": str(tmp),
                "PYTHONPATH": str(ROOT)})
    env.update(extra or {})
    return env


def bump_argv(repo: str, *images: str, extra: Sequence[str] = (), verbose: bool = False) -> list[str]:
    argv = [sys.executable, "-m", "updater", *(["-vv"] if verbose else []), "bump", "--repo", repo, "--mode", "push"]
    for image in images:
        argv += ["--image", image]
    return [*argv, *extra]


def run_bump(repo: str, *images: str, env: Mapping[str, str], extra: Sequence[str] = (),
             timeout: float = 60, verbose: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(bump_argv(repo, *images, extra=extra, verbose=verbose), cwd=ROOT, env=dict(env), capture_output=True,
                          text=True, timeout=timeout)


def start_bump(repo: str, *images: str, env: Mapping[str, str], extra: Sequence[str] = ()) -> subprocess.Popen[str]:
    """A CLI run in its own process group (so a test can kill it and every git child it started)."""
    return subprocess.Popen(bump_argv(repo, *images, extra=extra), cwd=ROOT, env=dict(env), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


@pytest.fixture()
def isolated_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """For in-process runs: git sees no machine config and no CI tokens."""
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    for name in ("GITHUB_TOKEN", "GITLAB_TOKEN", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL",
                 "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture()
def bare(tmp_path: Path) -> Path:
    """The default manifest remote (apps api and web) as a bare repository."""
    return manifest_remote(tmp_path / "srv")


@pytest.fixture()
def server(bare: Path) -> Iterator[GitHttpServer]:
    """`bare` served over git smart HTTP, token-checked (TOKEN)."""
    with GitHttpServer(bare.parent.parent, token=TOKEN) as served:
        yield served
