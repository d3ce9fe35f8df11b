"""Following a branch over real git smart HTTP: ls-remote polls, fetch only on change, token handling."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gitrepos import askpass_env, clone, commit_all, git, make_remote, write_tree
from updater.agent.source import Source
from updater.errors import AuthFailed, BadInput, RemoteError, TransientRemoteError
from updater_sandbox.git_http import GitHttpServer

TOKEN = "agent-read-token-5678"


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[GitHttpServer]:
    root = tmp_path / "srv"
    root.mkdir()
    make_remote(root, {"apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"}, name="acme/gitops.git")
    with GitHttpServer(root, token=TOKEN) as server:
        yield server


def git_commands(server: GitHttpServer) -> int:
    """Each git command against the server starts with one GET of info/refs."""
    return sum(1 for method, path, _ in server.requests if method == "GET" and path.endswith("info/refs"))


def test_polls_cheaply_and_fetches_only_when_the_tip_moved(served: GitHttpServer, tmp_path: Path) -> None:
    source = Source(served.repo_url("acme/gitops.git"), "main", cache_dir=tmp_path / "cache", token=TOKEN)
    first = source.tip()
    tree = source.checkout(first)
    assert (tree / "apps/cm.yaml").is_file() and source.checked_out == first
    assert git_commands(served) == 2  # ls-remote + fetch
    assert source.tip() == first
    source.checkout(first)
    assert git_commands(served) == 3  # the ls-remote only: nothing fetched for an unchanged tip

    work = clone(served.repo_url("acme/gitops.git"), tmp_path / "work", env=askpass_env(tmp_path, TOKEN))
    (work / "apps/cm.yaml").unlink()
    write_tree(work, {"apps/new.yaml": "x: 1\n"})
    second = commit_all(work, "change")
    git("push", "-q", "origin", "main", cwd=work, env=askpass_env(tmp_path, TOKEN))
    assert source.tip() == second
    tree = source.checkout(second)
    assert source.checked_out == second
    assert not (tree / "apps/cm.yaml").exists() and (tree / "apps/new.yaml").is_file()


def test_the_token_never_lands_in_git_config(served: GitHttpServer, tmp_path: Path) -> None:
    source = Source(served.repo_url("acme/gitops.git"), "main", cache_dir=tmp_path / "cache", token=TOKEN)
    tree = source.checkout(source.tip())
    config = (tree / ".git" / "config").read_text()
    assert TOKEN not in config and "extraheader" not in config.lower()


def test_wrong_token_is_an_auth_error_without_the_token(served: GitHttpServer, tmp_path: Path) -> None:
    source = Source(served.repo_url("acme/gitops.git"), "main", cache_dir=tmp_path / "c", token="wrong-token-0000")
    with pytest.raises(AuthFailed, match="check the token") as caught:
        source.tip()
    assert "wrong-token-0000" not in str(caught.value)


def test_missing_branch_is_bad_input(served: GitHttpServer, tmp_path: Path) -> None:
    source = Source(served.repo_url("acme/gitops.git"), "nope", cache_dir=tmp_path / "c", token=TOKEN)
    with pytest.raises(BadInput, match="branch 'nope' not found"):
        source.tip()


def test_an_unknown_git_failure_is_permanent_for_the_agent(served: GitHttpServer, tmp_path: Path) -> None:
    # the classifier `updater bump` uses: a stale index.lock in the cache is no network hiccup
    source = Source(served.repo_url("acme/gitops.git"), "main", cache_dir=tmp_path / "cache", token=TOKEN)
    source.checkout(source.tip())
    work = clone(served.repo_url("acme/gitops.git"), tmp_path / "work", env=askpass_env(tmp_path, TOKEN))
    write_tree(work, {"apps/new.yaml": "x: 1\n"})
    second = commit_all(work, "change")
    git("push", "-q", "origin", "main", cwd=work, env=askpass_env(tmp_path, TOKEN))
    (source.workdir / ".git" / "index.lock").write_text("")
    with pytest.raises(RemoteError, match="index.lock") as caught:
        source.checkout(second)
    assert type(caught.value) is RemoteError and not caught.value.transient


def test_an_unreachable_remote_is_transient_for_the_agent(tmp_path: Path) -> None:
    source = Source("http://127.0.0.1:1/acme/gitops.git", "main", cache_dir=tmp_path / "cache", token=TOKEN)
    with pytest.raises(TransientRemoteError, match="git ls-remote of http://127.0.0.1:1/acme/gitops.git failed"):
        source.tip()
