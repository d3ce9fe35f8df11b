"""The temporary clone against real bare repositories, over file://, a local path and HTTP with a token."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.git.conftest import TOKEN
from tests.gitrepos import git, read_blob
from updater.errors import AuthFailed, BadInput, PolicyRefused, PushRejected, RemoteError, TransientRemoteError
from updater.git.credentials import Credentials, resolve_credentials
from updater.git.identity import Identity
from updater.git.workspace import Workspace, sparse_patterns
from updater_sandbox.git_http import Fault, GitHttpServer, drop_connection, http_error

ME = Identity("CI Bot", "ci@example.test")
NONE = Credentials(None)


def bump(ws: Workspace, rel: str, text: str) -> str:
    (ws.root / rel).write_text(text)
    return ws.commit(f"bump {rel}", files=[rel], author=ME, committer=ME)


def test_shallow_clone_of_the_default_branch_is_removed_on_close(bare: Path, tmp_path: Path) -> None:
    with Workspace.clone(bare.as_uri(), credentials=NONE, parent=tmp_path) as ws:
        assert ws.branch == "main" and ws.strategy == "shallow"
        assert (ws.root / "apps/api/deploy.yaml").read_text() == "image: ghcr.io/acme/api:1.0.0\n"
        assert git("rev-parse", "--is-shallow-repository", cwd=ws.root) == "true"
        temp = ws.root.parent
    assert not temp.exists()
    assert list(tmp_path.glob("updater-*")) == []


def test_a_local_path_is_cloned_shallow_too(bare: Path, tmp_path: Path) -> None:
    with Workspace.clone(str(bare), credentials=NONE, branch="main", parent=tmp_path) as ws:
        assert git("rev-parse", "--is-shallow-repository", cwd=ws.root) == "true"


def test_missing_branch_or_repository_is_bad_input_and_leaves_nothing(bare: Path, tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="Remote branch nope not found"):
        Workspace.clone(bare.as_uri(), credentials=NONE, branch="nope", parent=tmp_path)
    with pytest.raises(BadInput, match="--repo .*no such repository"):
        Workspace.clone(str(tmp_path / "missing.git"), credentials=NONE, parent=tmp_path)
    with pytest.raises(BadInput):
        Workspace.clone((tmp_path / "missing.git").as_uri(), credentials=NONE, parent=tmp_path)
    assert list(tmp_path.glob("updater-*")) == []


def test_partial_sparse_clone_checks_out_only_the_globs(server: GitHttpServer, tmp_path: Path) -> None:
    _, creds = resolve_credentials(server.repo_url("acme/gitops.git"), {"GITHUB_TOKEN": TOKEN})
    with Workspace.clone(server.repo_url("acme/gitops.git"), credentials=creds, sparse=["apps/api/**"],
                         parent=tmp_path) as ws:
        assert ws.strategy == "partial+sparse"
        files = sorted(p.relative_to(ws.root).as_posix() for p in ws.root.rglob("*") if ".git" not in p.parts and p.is_file())
        assert files == ["apps/api/deploy.yaml"]
        # a commit from the sparse clone still carries the whole tree
        bump(ws, "apps/api/deploy.yaml", "image: ghcr.io/acme/api:1.1.0\n")
        ws.push()
    bare = server.root / "acme/gitops.git"
    assert read_blob(bare, "main", "apps/web/deploy.yaml") == "image: ghcr.io/acme/web:2.0.0"
    assert read_blob(bare, "main", "apps/api/deploy.yaml") == "image: ghcr.io/acme/api:1.1.0"


def test_widen_leaves_the_sparse_checkout(server: GitHttpServer, tmp_path: Path) -> None:
    _, creds = resolve_credentials(server.repo_url("acme/gitops.git"), {"GITHUB_TOKEN": TOKEN})
    with Workspace.clone(server.repo_url("acme/gitops.git"), credentials=creds, sparse=["README.md"],
                         parent=tmp_path) as ws:
        assert ws.sparse and not (ws.root / "apps").exists()
        ws.widen()
        assert not ws.sparse and (ws.root / "apps/web/deploy.yaml").read_text() == "image: ghcr.io/acme/web:2.0.0\n"
        ws.refresh()
        assert (ws.root / "apps/api/deploy.yaml").exists()


def test_sparse_falls_back_when_the_server_has_no_filter_support(bare: Path, tmp_path: Path) -> None:
    # git over file:// runs upload-pack with the bare repo's config, where uploadpack.allowFilter is unset
    with Workspace.clone(bare.as_uri(), credentials=NONE, sparse=["./apps/web/*.yaml"], parent=tmp_path) as ws:
        assert ws.strategy == "shallow+sparse"
        assert (ws.root / "apps/web/deploy.yaml").exists() and not (ws.root / "apps/api").exists()


def test_sparse_falls_back_when_the_server_filters_but_refuses_lazy_fetches(
        bare: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    # protocol v0 without uploadpack.allowAnySHA1InWant: the filtered clone works, fetching the blobs
    # for the checkout is refused ("Server does not allow request for unadvertised object")
    git("config", "uploadpack.allowFilter", "true", cwd=bare)
    config = tmp_path / "gitconfig"
    config.write_text("[protocol]\n\tversion = 0\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    with caplog.at_level("INFO", logger="updater.git.workspace"), \
            Workspace.clone(bare.as_uri(), credentials=NONE, sparse=["apps/web/**"], parent=tmp_path) as ws:
        assert "partial clone failed" in caplog.text and "promisor remote" in caplog.text  # it really failed first
        assert ws.strategy == "shallow+sparse" and ws.sparse
        assert (ws.root / "apps/web/deploy.yaml").exists() and not (ws.root / "apps/api").exists()
        bump(ws, "apps/web/deploy.yaml", "image: ghcr.io/acme/web:2.1.0\n")
        ws.push()
    assert read_blob(bare, "main", "apps/web/deploy.yaml") == "image: ghcr.io/acme/web:2.1.0"


def test_sparse_patterns_are_anchored_non_cone_patterns() -> None:
    assert sparse_patterns(["apps/**", "./x/*.yaml", "/y", " "]) == ["/apps/**", "/x/*.yaml", "/y"]


def test_commit_push_and_the_identity(bare: Path, tmp_path: Path) -> None:
    author = Identity("Author A", "a@example.test")
    with Workspace.clone(bare.as_uri(), credentials=NONE, parent=tmp_path) as ws:
        (ws.root / "README.md").write_text("changed\n")
        sha = ws.commit("subject\n\nbody", files=["README.md"], author=author, committer=ME)
        result = ws.push()
    assert result.ok and result.refs[0].destination == "refs/heads/main"
    assert git("rev-parse", "main", cwd=bare) == sha
    assert git("log", "-1", "--format=%an <%ae>|%cn <%ce>|%B", "main", cwd=bare) == \
        "Author A <a@example.test>|CI Bot <ci@example.test>|subject\n\nbody"


def test_two_clones_racing_the_loser_is_rejected_then_lands_after_refresh(bare: Path, tmp_path: Path) -> None:
    with Workspace.clone(bare.as_uri(), credentials=NONE, parent=tmp_path) as first, \
            Workspace.clone(bare.as_uri(), credentials=NONE, parent=tmp_path) as second:
        bump(first, "apps/api/deploy.yaml", "image: ghcr.io/acme/api:1.1.0\n")
        bump(second, "apps/web/deploy.yaml", "image: ghcr.io/acme/web:2.1.0\n")
        first.push()
        with pytest.raises(PushRejected, match=r"rejected \(fetch first\)"):
            second.push()
        tip = second.refresh()
        assert tip == git("rev-parse", "main", cwd=bare)
        assert (second.root / "apps/api/deploy.yaml").read_text().endswith("1.1.0\n")
        assert (second.root / "apps/web/deploy.yaml").read_text().endswith("2.0.0\n")  # our edit is gone
        bump(second, "apps/web/deploy.yaml", "image: ghcr.io/acme/web:2.1.0\n")
        second.push()
    assert git("rev-list", "--count", "main", cwd=bare) == "3"
    assert git("rev-list", "--merges", "main", cwd=bare) == ""


def test_force_with_lease_to_another_branch(bare: Path, tmp_path: Path) -> None:
    with Workspace.clone(bare.as_uri(), credentials=NONE, parent=tmp_path) as ws:
        first = bump(ws, "README.md", "one\n")
        assert ws.ls_remote("refs/heads/updater/x") is None
        ws.push(branch="updater/x", expected="")  # create: must not exist yet
        assert ws.ls_remote("refs/heads/updater/x") == first
        ws.refresh()  # back to main's tip, then a different commit replaces the PR branch
        second = bump(ws, "README.md", "two\n")
        ws.push(branch="updater/x", expected=first)
        assert ws.ls_remote("refs/heads/updater/x") == second
        bump(ws, "README.md", "three\n")
        with pytest.raises(PushRejected, match="stale info"):
            ws.push(branch="updater/x", expected=first)
    assert git("rev-parse", "main", cwd=bare) != second


def test_declining_hook_is_a_policy_refusal_and_nothing_lands(bare: Path, tmp_path: Path) -> None:
    hook = bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'GL-HOOK-ERR: main is a protected branch' >&2\nexit 1\n")
    hook.chmod(0o755)
    before = git("rev-parse", "main", cwd=bare)
    with Workspace.clone(bare.as_uri(), credentials=NONE, parent=tmp_path) as ws:
        bump(ws, "README.md", "x\n")
        with pytest.raises(PolicyRefused, match="pre-receive hook declined.*protected branch"):
            ws.push()
    assert git("rev-parse", "main", cwd=bare) == before


def test_http_with_token_never_writes_it_anywhere(server: GitHttpServer, tmp_path: Path) -> None:
    url = server.repo_url("acme/gitops.git")
    clean, creds = resolve_credentials(url.replace("http://", f"http://bot:{TOKEN}@"), {})
    with Workspace.clone(clean, credentials=creds, parent=tmp_path) as ws:
        bump(ws, "README.md", "via http\n")
        ws.push()
        for path in (ws.root / ".git").rglob("*"):
            if path.is_file() and path.stat().st_size < 1_000_000:
                assert TOKEN.encode() not in path.read_bytes(), path
        assert git("config", "remote.origin.url", cwd=ws.root) == url
    assert read_blob(server.root / "acme/gitops.git", "main", "README.md") == "via http"


def test_wrong_token_fails_fast_as_auth_with_the_token_masked(server: GitHttpServer, tmp_path: Path) -> None:
    wrong = "wrong-token-0000-xyz"
    _, creds = resolve_credentials(server.repo_url("acme/gitops.git"), {"GITHUB_TOKEN": wrong})
    started = time.monotonic()
    with pytest.raises(AuthFailed) as caught:
        Workspace.clone(server.repo_url("acme/gitops.git"), credentials=creds, parent=tmp_path)
    assert time.monotonic() - started < 10
    assert "$GITHUB_TOKEN" in str(caught.value) and wrong not in str(caught.value)
    assert list(tmp_path.glob("updater-*")) == []


def test_no_token_against_a_protected_server_is_auth_not_a_prompt(server: GitHttpServer, tmp_path: Path) -> None:
    with pytest.raises(AuthFailed, match="no token"):
        Workspace.clone(server.repo_url("acme/gitops.git"), credentials=NONE, parent=tmp_path)


@pytest.mark.parametrize("fault", [http_error(500), http_error(502)])
def test_server_errors_on_push_are_transient(server: GitHttpServer, tmp_path: Path, fault: Fault) -> None:
    _, creds = resolve_credentials(server.repo_url("acme/gitops.git"), {"GITHUB_TOKEN": TOKEN})
    with Workspace.clone(server.repo_url("acme/gitops.git"), credentials=creds, parent=tmp_path) as ws:
        bump(ws, "README.md", "x\n")
        server.faults["receive-pack"].append(fault)
        with pytest.raises(TransientRemoteError) as caught:
            ws.push()
        assert not isinstance(caught.value, PushRejected)
        ws.push()  # the next attempt goes through


def test_dropped_fetch_connection_is_transient(server: GitHttpServer, tmp_path: Path) -> None:
    _, creds = resolve_credentials(server.repo_url("acme/gitops.git"), {"GITHUB_TOKEN": TOKEN})
    with Workspace.clone(server.repo_url("acme/gitops.git"), credentials=creds, parent=tmp_path) as ws:
        server.faults["upload-pack"].extend([drop_connection()] * 3)  # curl retries a reused connection once
        with pytest.raises(TransientRemoteError):
            ws.refresh()


def test_an_unknown_git_failure_is_permanent_for_bump(bare: Path, tmp_path: Path) -> None:
    # a stale index.lock (a git killed mid-write) fails the same way on every retry: not transient
    with Workspace.clone(bare.as_uri(), credentials=NONE, parent=tmp_path) as ws:
        (ws.root / ".git" / "index.lock").write_text("")
        with pytest.raises(RemoteError, match="index.lock") as caught:
            bump(ws, "apps/api/deploy.yaml", "image: ghcr.io/acme/api:1.1.0\n")
    assert type(caught.value) is RemoteError and not caught.value.transient
