"""The agent's commit statuses posted as a GitHub App (issue 16 item 1): `status: {app_id,
app_private_key_file}` in agent.yml (or the --status-app-* flags) → an installation per app
repository on the local forge, whose tokens the agent mints again before they expire; a token
without `statuses: write` is one clear error line per app, and the agent keeps reconciling.
Git uses the forge's token (the agent's git auth is --token-env); the statuses' creator shows
which credentials posted them."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from tests.agent.conftest import SEED, agent_namespace, image_of
from updater.agent.app_statuses import app_statuses
from updater.agent.client import KubeClient, load_config
from updater.agent.loop import Agent
from updater.agent.settings import AgentSettings, AppSettings, StatusSettings, build_settings, load_config_file
from tests.app_support import APP_ID, PRIVATE, app_only, assert_no_secrets
from updater.cli import main
from updater.errors import BadInput
from updater_sandbox import github_apps
from updater_sandbox.forge import Forge
from updater_sandbox.kube.server import KubeApiServer

REPO, OTHER = "acme/gitops", "acme/platform"
BOT = "updater-app[bot]"


def _config(forge: Forge, tmp_path: Path, *, status: str) -> Path:
    key = tmp_path / "secret" / "private-key.pem"  # as a mounted Secret would hold it
    key.parent.mkdir()
    key.write_text(PRIVATE)
    config = tmp_path / "agent.yml"
    config.write_text(
        f"cluster: prod\nstatus: {{provider: github, api_url: '{forge.github_api_url}', {status.format(key=key)}}}\n"
        f"apps:\n- {{name: shop, repo: '{forge.repo_url(REPO)}', path: clusters/prod, token_env: FORGE_TOKEN}}\n"
        f"- {{name: platform, repo: '{forge.repo_url(OTHER)}', path: base, token_env: FORGE_TOKEN}}\n")
    return config


@pytest.fixture()
def setup(forge: Forge, kube_api: KubeApiServer, kubeconfig: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    agent_namespace(kube_api)
    forge.create_repo(REPO, dict(SEED))
    forge.create_repo(OTHER, {"base/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: base, "
                                              "namespace: default}\ndata: {a: b}\n"})
    token = forge.token
    app = app_only(forge)
    forge.store.logins[token] = "octocat"  # git (and only git, here) uses the forge's own token
    monkeypatch.setenv("FORGE_TOKEN", token)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")

    def once(config: Path) -> int:
        return main(["agent", "--config", str(config), "--kubeconfig", str(kubeconfig),
                     "--cache-dir", str(tmp_path / "cache"), "--once"])

    return forge, app, once


def _statuses(forge: Forge, repo: str) -> list[tuple[str, str, str]]:
    head = forge.repo(repo).bare.rev_parse("main") or ""
    return [(s.context, s.state, s.creator) for s in forge.repo(repo).statuses_for(head)]


def test_statuses_are_posted_as_the_app_with_refreshed_tokens(setup, tmp_path, kube_api, capsys) -> None:
    forge, app, once = setup
    app.token_ttl = 5.0  # within PyGithub's refresh margin: every post needs a freshly minted token
    github_apps.install(forge.store, app, [REPO, OTHER], permissions={"statuses": "write", "metadata": "read"})
    config = _config(forge, tmp_path, status="app_id: {APP_ID}, app_private_key_file: '{key}'".replace(
        "{APP_ID}", str(APP_ID)))
    assert once(config) == 0
    assert _statuses(forge, REPO) == [("updater/prod", "success", BOT)]
    assert _statuses(forge, OTHER) == [("updater/prod", "success", BOT)]
    minted = list(github_apps.apps_of(forge.store).minted)
    # a new commit, a second run: posted again with a token minted after the first ones
    forge.commit(REPO, "main", {"clusters/prod/api/settings.yaml": SEED["clusters/prod/api/settings.yaml"]
                                .replace("1.0", "1.1") + "\n"}, "touch")
    assert once(config) == 0
    assert _statuses(forge, REPO) == [("updater/prod", "success", BOT)]
    assert len(github_apps.apps_of(forge.store).minted) > len(minted)
    captured = capsys.readouterr()
    assert_no_secrets(captured.out + captured.err, forge)


def test_a_token_without_statuses_write_is_one_error_per_app_and_sync_goes_on(setup, tmp_path, kube_api, capsys,
                                                                              monkeypatch) -> None:
    forge, app, once = setup
    github_apps.install(forge.store, app, [REPO, OTHER], permissions={"statuses": "read", "metadata": "read"})
    config = _config(forge, tmp_path, status=f"app_id: '{APP_ID}', app_private_key_env: APP_KEY")
    monkeypatch.setenv("APP_KEY", PRIVATE)
    assert once(config) == 0  # the sync itself succeeded
    assert once(config) == 0  # a second run: refused again, said again (one line per app)
    assert image_of(kube_api) == "ghcr.io/acme/api:1.0.0"
    assert kube_api.get("v1", "ConfigMap", "base", "default") is not None
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if "commit status not posted" in line]
    # one line per app and run (each --once run is a new agent); a pass's summary line still follows
    assert len(errors) == 4, captured.err
    for error in errors:
        assert error.startswith(("app shop: commit status not posted: updater/prod on acme/gitops@",
                                 "app platform: commit status not posted: updater/prod on acme/platform@"))
        assert f"GitHub App {APP_ID} was refused (403: Resource not accessible by integration)" in error
        assert "statuses: write" in error
    assert "Synced, Healthy" in captured.err
    assert _statuses(forge, REPO) == [] and _statuses(forge, OTHER) == []
    assert_no_secrets(captured.out + captured.err, forge)


def test_a_bad_key_setting_stops_the_agent_at_start_naming_it(setup, tmp_path, capsys) -> None:
    forge, app, once = setup
    config = _config(forge, tmp_path, status=f"app_id: {APP_ID}, app_private_key_file: '{{key}}.missing'")
    assert once(config) == 2
    assert "status.app_private_key_file" in capsys.readouterr().err


def test_within_one_agent_a_refusal_is_logged_once_and_retried_each_pass(setup, tmp_path, kubeconfig, caplog) -> None:
    forge, app, _ = setup
    installation = github_apps.install(forge.store, app, [REPO], permissions={"statuses": "read"})
    settings = StatusSettings(provider="github", api_url=forge.github_api_url, app_id=str(APP_ID),
                              app_private_key_env="APP_KEY")
    shop = AppSettings(name="shop", repo=forge.repo_url(REPO), path="clusters/prod", token_env="FORGE_TOKEN")
    agent = Agent(AgentSettings(apps=(shop,), cluster="prod", cache_dir=tmp_path / "cache", status=settings),
                  KubeClient(load_config(kubeconfig=kubeconfig, context=None, env={})),
                  env={"FORGE_TOKEN": os.environ["FORGE_TOKEN"]},
                  statuses=dict(app_statuses(settings, {"shop": shop.repo}, {"APP_KEY": PRIVATE})))
    with caplog.at_level(logging.INFO, logger="updater.agent"):
        agent.sync_app(shop)
        agent.sync_app(shop)
    refused = [r for r in caplog.records if "commit status not posted" in r.getMessage()]
    assert len(refused) == 1 and refused[0].levelno == logging.ERROR
    posts = forge.log_for("github", method="POST", path_contains="/statuses/")
    assert len(posts) == 2  # not marked posted: the next pass tried again
    installation.permissions["statuses"] = "write"  # the operator fixes the app's permission
    agent.sync_app(shop)
    assert _statuses(forge, REPO) == [("updater/prod", "success", BOT)]


def test_status_app_settings_from_flags_over_the_config_file() -> None:
    config = {"apps": [{"repo": "https://github.com/acme/gitops.git"}],
              "status": {"provider": "github", "api_url": "https://api.github.com", "app_id": 7,
                         "app_private_key_file": "/etc/updater/github-app/private-key.pem"}}
    settings = build_settings({}, config=config, config_name="agent.yml")
    assert settings.status.as_app and settings.status.app_id == "7"
    assert settings.status.app_private_key_file == "/etc/updater/github-app/private-key.pem"
    flagged = build_settings({"status_app_id": "9", "status_app_private_key_env": "KEY"}, config=config)
    assert (flagged.status.app_id, flagged.status.app_private_key_env) == ("9", "KEY")
    assert not build_settings({"repo": "https://github.com/acme/gitops.git"}, config=None).status.as_app


def test_a_typo_in_status_is_bad_input_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "agent.yml"
    path.write_text("apps: [{repo: 'https://github.com/acme/gitops.git'}]\nstatus: {app_key_file: /x}\n")
    with pytest.raises(BadInput, match="status: unknown key 'app_key_file'"):
        load_config_file(path)


def test_app_statuses_need_github_and_an_api_url() -> None:
    with pytest.raises(BadInput, match="provider: github and api_url"):
        app_statuses(StatusSettings(provider="gitlab", api_url="https://gitlab.com/api/v4", app_id="7",
                                    app_private_key_env="KEY"), {}, {"KEY": PRIVATE})
