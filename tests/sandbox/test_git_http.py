"""git http-backend behind GitHttpServer: clone, push, auth failures and injected faults, with real git."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gitrepos import askpass_env, clone, commit_all, git, make_remote, write_tree
from updater_sandbox.git_http import GitHttpServer, http_error

TOKEN = "sandbox-token-1234"


@pytest.fixture()
def served(tmp_path: Path):
    root = tmp_path / "srv"
    root.mkdir()
    make_remote(root, {"app/deploy.yaml": "image: a:1\n"}, name="acme/gitops.git")
    with GitHttpServer(root, token=TOKEN, read_only_tokens=("reader-token-9999",)) as server:
        yield server


def test_clone_and_push_with_token(served: GitHttpServer, tmp_path: Path) -> None:
    env = askpass_env(tmp_path, TOKEN)
    work = clone(served.repo_url("acme/gitops.git"), tmp_path / "work", env=env)
    write_tree(work, {"app/deploy.yaml": "image: a:2\n"})
    sha = commit_all(work, "bump")
    git("push", "-q", "origin", "main", cwd=work, env=env)
    assert git("rev-parse", "main", cwd=served.root / "acme/gitops.git") == sha


def test_wrong_token_is_an_authentication_failure(served: GitHttpServer, tmp_path: Path) -> None:
    env = askpass_env(tmp_path, "wrong-token-0000")
    with pytest.raises(AssertionError, match="Authentication failed"):
        git("clone", served.repo_url("acme/gitops.git"), str(tmp_path / "x"), cwd=tmp_path, env=env)
    assert not (tmp_path / "x" / "app").exists()


def test_read_only_token_cannot_push(served: GitHttpServer, tmp_path: Path) -> None:
    env = askpass_env(tmp_path, "reader-token-9999")
    work = clone(served.repo_url("acme/gitops.git"), tmp_path / "work", env=env)
    write_tree(work, {"app/deploy.yaml": "image: a:3\n"})
    commit_all(work, "bump")
    with pytest.raises(AssertionError, match="403"):
        git("push", "origin", "main", cwd=work, env=env)


def test_injected_500_fails_one_push_then_recovers(served: GitHttpServer, tmp_path: Path) -> None:
    env = askpass_env(tmp_path, TOKEN)
    work = clone(served.repo_url("acme/gitops.git"), tmp_path / "work", env=env)
    write_tree(work, {"app/deploy.yaml": "image: a:4\n"})
    sha = commit_all(work, "bump")
    served.faults["receive-pack"].append(http_error(500))
    with pytest.raises(AssertionError):
        git("push", "origin", "main", cwd=work, env=env)
    git("push", "-q", "origin", "main", cwd=work, env=env)
    assert git("rev-parse", "main", cwd=served.root / "acme/gitops.git") == sha


def test_partial_clone_is_served(served: GitHttpServer, tmp_path: Path) -> None:
    env = askpass_env(tmp_path, TOKEN)
    git("clone", "-q", "--filter=blob:none", "--no-checkout", served.repo_url("acme/gitops.git"),
        str(tmp_path / "p"), cwd=tmp_path, env=env)
    assert git("config", "remote.origin.promisor", cwd=tmp_path / "p") == "true"
