"""How `updater promote` and `updater status` authenticate (issue 16 item 1): as a GitHub App (the
gate and the table read the agent's commit statuses with installation tokens; a revoked
installation or a missing `statuses` permission is exit 6 naming it), and without any forge token
in push mode (--no-verify promotes with git access alone; the gate is exit 6 saying what to set).
The forge's own token is revoked in the App tests: only installation tokens can have done the work."""

from __future__ import annotations

import json
import os

import pytest

from tests.app_support import APP_ID, PRIVATE, app_only, assert_no_secrets
from tests.gitrepos import git, make_remote
from tests.promote.test_promote import FILES, REPO, deploy
from updater.cli import main
from updater_sandbox import github_apps

STATUS_READ = {"contents": "write", "pull_requests": "write", "statuses": "read", "metadata": "read"}


@pytest.fixture()
def app_setup(forge, tmp_path, monkeypatch):
    forge.create_repo(REPO, FILES)
    sha = forge.commit(REPO, "main", {"envs/staging/api/deploy.yaml": deploy("api", "ghcr.io/acme/api:1.5.0")},
                       "Bump api 1.5.0 in staging")
    for name in ("GITHUB_TOKEN", "GITLAB_TOKEN", "GITHUB_APP_ID"):
        monkeypatch.delenv(name, raising=False)
    key = tmp_path / "app.pem"
    key.write_text(PRIVATE)
    repo = ["--repo", forge.repo_url(REPO), "--provider", "github", "--api-url", forge.github_api_url,
            "--app-id", str(APP_ID), "--app-private-key-file", str(key)]
    return forge, app_only(forge), sha, repo


def _promote(repo, *extra):
    return main(["promote", *repo, "--target", "api", "--from", "staging", "--to", "production", "--retries", "1",
                 *extra])


def _open_pulls(forge):
    return [p for p in forge.repo(REPO).pulls.values() if p.state == "open"]


def test_promote_as_an_app_reads_the_gate_and_opens_the_pr(app_setup, capsys):
    forge, app, sha, repo = app_setup
    github_apps.install(forge.store, app, [REPO], permissions=STATUS_READ)
    forge.set_status(REPO, sha, "success", context="updater/staging-1", description="deployed")
    assert _promote(repo) == 0
    # two installation tokens: the command's .updater.yml read, then the step (gate, clone, bump, PR)
    assert len(github_apps.apps_of(forge.store).minted) == 2
    [pull] = _open_pulls(forge)
    assert sha in pull.body and "`updater/staging-1`: success" in pull.body
    captured = capsys.readouterr()
    assert_no_secrets(captured.out + captured.err, forge)
    # the gate is really read: without the agent's status the App's promotion is refused (exit 4)
    forge.set_status(REPO, sha, "failure", context="updater/staging-1", description="not ready")
    assert _promote(repo) == 4
    assert "updater/staging-1 is failure" in capsys.readouterr().err


def test_promote_without_the_statuses_permission_is_exit_6_naming_it(app_setup, capsys):
    forge, app, sha, repo = app_setup
    github_apps.install(forge.store, app, [REPO], permissions={"contents": "write", "pull_requests": "write"})
    forge.set_status(REPO, sha, "success", context="updater/staging-1")
    assert _promote(repo) == 6
    err = capsys.readouterr().err
    assert "Resource not accessible by integration" in err and "statuses: read" in err
    assert _open_pulls(forge) == []


def test_promote_with_a_revoked_installation_is_exit_6_with_one_clear_line(app_setup, capsys):
    forge, app, sha, repo = app_setup
    github_apps.revoke(forge.store, app, github_apps.install(forge.store, app, [REPO], permissions=STATUS_READ))
    assert _promote(repo, "--no-verify") == 6
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("updater")]  # not the forge's log
    assert len(err) == 1 and f"GitHub App {APP_ID}" in err[0] and "install the app" in err[0]
    assert _open_pulls(forge) == []


def test_status_as_an_app_reads_the_agents_statuses(app_setup, capsys):
    forge, app, sha, repo = app_setup
    github_apps.install(forge.store, app, [REPO], permissions={**STATUS_READ, "contents": "read",
                                                                "pull_requests": "read"})
    forge.set_status(REPO, sha, "success", context="updater/eu-1")
    assert main(["status", *repo, "--target", "api", "--json"]) == 0
    captured = capsys.readouterr()
    rows = {row["target"]: row for row in json.loads(captured.out)}
    assert [(c["cluster"], c["state"]) for c in rows["api/staging"]["clusters"]] == [("eu-1", "success")]
    assert_no_secrets(captured.out + captured.err, forge)


def test_status_as_an_app_without_statuses_read_is_exit_6(app_setup, capsys):
    forge, app, _, repo = app_setup
    github_apps.install(forge.store, app, [REPO], permissions={"contents": "read", "pull_requests": "read"})
    assert main(["status", *repo]) == 6
    assert "statuses: read" in capsys.readouterr().err


@pytest.fixture()
def local(tmp_path, monkeypatch):
    """A plain git remote (no forge, no API) holding the environments; no forge token anywhere."""
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    for name in ("GITHUB_TOKEN", "GITLAB_TOKEN", "GITHUB_APP_ID"):
        monkeypatch.delenv(name, raising=False)
    files = {**FILES, "envs/staging/api/deploy.yaml": deploy("api", "ghcr.io/acme/api:1.5.0")}
    return make_remote(tmp_path, files, name="gitops.git")


def test_promote_in_push_mode_with_no_verify_needs_no_forge_token(local, capsys):
    assert _promote(["--repo", str(local), "--mode", "push"], "--no-verify") == 0, capsys.readouterr().err
    text = git("show", "main:envs/production/api/deploy.yaml", cwd=local)
    assert "ghcr.io/acme/api:1.5.0" in text
    message = git("log", "-1", "--format=%B", "main", cwd=local)
    assert "api" in message


def test_promote_in_push_mode_with_the_gate_and_no_token_is_exit_6_saying_what_to_do(local, capsys):
    before = git("rev-parse", "main", cwd=local)
    assert _promote(["--repo", str(local), "--mode", "push"]) == 6
    err = capsys.readouterr().err
    assert "GITHUB_TOKEN" in err and "--app-id" in err and "--no-verify" in err
    assert git("rev-parse", "main", cwd=local) == before
