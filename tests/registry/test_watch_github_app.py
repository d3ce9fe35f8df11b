"""`updater watch --repo` authenticated as a GitHub App (issue 16 item 1): the `.updater.yml` read,
the bump's clone and push and its pull request all use the app's installation tokens (the forge's
own token is revoked), with bump's own flags (`--app-id`, `--app-private-key-file`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.app_support import APP_ID, PRIVATE, app_only, assert_no_secrets
from tests.registry.server import Registry
from tests.registry.test_watch import DEPLOY, config, watch
from updater_sandbox import github_apps
from updater_sandbox.forge import Forge


def test_watch_as_an_app_opens_the_pull_request(logged_in: Registry, repo_name: str, forge: Forge, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    image = f"{logged_in.host}/{repo_name}"
    logged_in.push(repo_name, "1.4.0")
    logged_in.tag(repo_name, "1.4.0", "1.4.2")
    forge.create_repo("acme/gitops", {"apps/api/deploy.yaml": DEPLOY.format(ref=f"{image}:1.4.0"),
                                      ".updater.yml": config(("api", image, '{semver: "~1.4"}'))})
    github_apps.install(forge.store, app_only(forge), ["acme/gitops"])
    for name in ("GITHUB_TOKEN", "GITLAB_TOKEN", "GITHUB_APP_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GITHUB_APP_ID", str(APP_ID))  # --app-id's default, as for bump
    key = tmp_path / "app.pem"
    key.write_text(PRIVATE)
    capsys.readouterr()
    assert watch(logged_in, "--repo", forge.repo_url("acme/gitops"), "--provider", "github",
                 "--api-url", forge.github_api_url, "--mode", "pr", "--app-private-key-file", str(key), "--json") == 0
    captured = capsys.readouterr()
    [target] = json.loads(captured.out)["targets"]
    assert target["bump"]["outcome"] == "created"
    [pull] = [p for p in forge.repo("acme/gitops").pulls.values() if p.state == "open"]
    assert pull.author == "updater-app[bot]"  # opened with an installation token
    shown = forge.repo("acme/gitops").bare.git("show", f"{pull.head}:apps/api/deploy.yaml").out
    assert shown == DEPLOY.format(ref=f"{image}:1.4.2")
    assert_no_secrets(captured.out + captured.err, forge)
