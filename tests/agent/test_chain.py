"""The whole loop, both sides, on the local forge and the Kubernetes API emulator: `updater bump`
opens a pull request, it is merged through the forge's API, the agent applies the merged commit, the
Deployment shows the new image, the commit gets "deployed to prod: healthy", and a `git revert` of
the merge rolls the cluster back."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.agent.conftest import SEED, agent_namespace, image_of
from tests.gitrepos import askpass_env, clone, git
from tests.landing.pr_support import REPO, TOKEN_VAR, api_url, merge
from updater.agent.client import KubeClient, load_config
from updater.agent.loop import Agent
from updater.agent.report import commit_statuses
from updater.agent.settings import AgentSettings, AppSettings
from updater.cli import main
from updater_sandbox.forge import Forge
from updater_sandbox.kube.server import KubeApiServer


@pytest.mark.parametrize("provider", ["github", "gitlab"])
def test_bump_pr_merge_apply_report_and_revert(provider: str, forge: Forge, kube_api: KubeApiServer, kubeconfig: Path,
                                               tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    agent_namespace(kube_api)
    forge.create_repo(REPO, dict(SEED))
    url = forge.repo_url(REPO)
    status_api = forge.github_api_url if provider == "github" else forge.gitlab_api_url + "/api/v4"
    app = AppSettings(name="shop", repo=url, path="clusters/prod", token_env="FORGE_TOKEN")
    agent = Agent(AgentSettings(apps=(app,), cluster="prod", cache_dir=tmp_path / "cache"),
                  KubeClient(load_config(kubeconfig=kubeconfig, context=None, env={})),
                  env={"FORGE_TOKEN": forge.token}, statuses={"shop": commit_statuses(provider, status_api, url, forge.token)})
    assert agent.sync_app(app).errors == ()
    assert image_of(kube_api) == "ghcr.io/acme/api:1.0.0"

    monkeypatch.setenv(TOKEN_VAR[provider], forge.token)
    assert main(["bump", "--image", "ghcr.io/acme/api:1.1.0", "--repo", url, "--mode", "pr", "--provider", provider,
                 "--api-url", api_url(forge, provider)]) == 0
    capsys.readouterr()
    (pull,) = [p for p in forge.repo(REPO).pulls.values() if p.state == "open"]
    assert image_of(kube_api) == "ghcr.io/acme/api:1.0.0"  # nothing deploys before the merge
    head = forge.repo(REPO).bare.rev_parse(pull.head) or ""
    deadline = time.monotonic() + 60  # bounded and generous (a loaded 2-core machine); the forge computes mergeability a moment after the push, as real ones do
    while (answer := merge(forge, provider, pull.number, head)).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert answer.status_code == 200, answer.text
    merged = forge.repo(REPO).bare.rev_parse("main") or ""

    status = agent.sync_app(app)
    assert status.commit == merged and status.applied == ("Deployment.apps shop/api configured",)
    assert image_of(kube_api) == "ghcr.io/acme/api:1.1.0"
    assert agent.sync_app(app).health == "Healthy"
    latest = forge.repo(REPO).latest_statuses(merged)["updater/prod"]
    assert (latest.state, latest.description) == ("success", "deployed to prod: healthy")

    env = askpass_env(tmp_path, forge.token)
    work = clone(url, tmp_path / "work", env=env)
    mainline = ["-m", "1"] if _is_merge(work, merged) else []  # a merge commit, or a squash/rebase result
    git("revert", "--no-edit", *mainline, merged, cwd=work)
    git("push", "-q", "origin", "HEAD:main", cwd=work, env=env)
    status = agent.sync_app(app)
    assert status.commit == git("rev-parse", "HEAD", cwd=work)
    assert image_of(kube_api) == "ghcr.io/acme/api:1.0.0"


def _is_merge(repo: Path, sha: str) -> bool:
    return len(git("rev-list", "--parents", "-n", "1", sha, cwd=repo).split()) > 2
