"""Reporting: event and commit-status wording (pure), and the commit status closing the loop on the
local forge's GitHub and GitLab statuses APIs for the commit the agent synced."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.agent.conftest import SEED, agent_namespace
from updater.agent.client import KubeClient, load_config
from updater.agent.loop import Agent
from updater.agent.report import AppStatus, commit_state, commit_statuses, event_for, repo_slug
from updater.agent.settings import AgentSettings, AppSettings
from updater_sandbox.forge import Forge
from updater_sandbox.kube.server import KubeApiServer


def status(**changes: object) -> AppStatus:
    fields: dict[str, Any] = {"app": "shop", "commit": "c" * 40, "sync": "Synced", "health": "Healthy", **changes}
    return AppStatus(**fields)


@pytest.mark.parametrize(("changes", "expected"), [
    ({}, ("success", "deployed to prod: healthy")),
    ({"health": "Progressing"}, ("pending", "deploying to prod: progressing")),
    ({"health": "Degraded"}, ("failure", "deployed to prod: degraded")),
    ({"sync": "OutOfSync", "drifted": ("x",)}, ("pending", "deploying to prod: healthy")),
    ({"errors": ("boom",)}, ("failure", "sync to prod failed: boom")),
])
def test_commit_state(changes: dict[str, Any], expected: tuple[str, str]) -> None:
    assert commit_state(status(**changes), cluster="prod") == expected


def test_events_only_when_something_happened() -> None:
    assert event_for(status(), namespace="ns", inventory="inv", cluster="prod", now=1.0) is None
    synced = event_for(status(applied=("a",)), namespace="ns", inventory="inv", cluster="prod", now=1.0)
    assert synced is not None and (synced["reason"], synced["type"]) == ("Synced", "Normal")
    assert synced["involvedObject"] == {"apiVersion": "v1", "kind": "ConfigMap", "namespace": "ns", "name": "inv"}
    failed = event_for(status(errors=("boom",)), namespace="ns", inventory="inv", cluster="prod", now=1.0)
    assert failed is not None and (failed["reason"], failed["type"], failed["message"]) == ("SyncFailed", "Warning", "boom")


def test_repo_slug() -> None:
    assert repo_slug("https://github.com/acme/gitops.git") == "acme/gitops"
    assert repo_slug("git@gitlab.com:group/sub/project.git") == "group/sub/project"


@pytest.mark.parametrize("provider", ["github", "gitlab"])
def test_synced_commit_gets_a_deployed_status_on_the_forge(provider: str, forge: Forge, kube_api: KubeApiServer,
                                                          kubeconfig: Path, tmp_path: Path) -> None:
    agent_namespace(kube_api)
    forge.create_repo("acme/gitops", dict(SEED))
    api = forge.github_api_url if provider == "github" else forge.gitlab_api_url + "/api/v4"
    url = forge.repo_url("acme/gitops")
    app = AppSettings(name="shop", repo=url, path="clusters/prod", token_env="FORGE_TOKEN")
    settings = AgentSettings(apps=(app,), cluster="prod", cache_dir=tmp_path / "cache")
    client = KubeClient(load_config(kubeconfig=kubeconfig, context=None, env={}))
    agent = Agent(settings, client, env={"FORGE_TOKEN": forge.token},
                  statuses={"shop": commit_statuses(provider, api, url, forge.token)})
    # health from a fresh read after the apply (the emulated controller finished the rollout at
    # once), not from the apply response, whose status is still the old one
    first = agent.sync_app(app)
    assert first.health == "Healthy"
    statuses = forge.repo("acme/gitops").statuses_for(first.commit or "")
    assert [(s.state, s.context, s.description) for s in statuses] == [
        ("success", "updater/prod", "deployed to prod: healthy"),
    ]
    agent.sync_app(app)
    assert len(forge.repo("acme/gitops").statuses_for(first.commit or "")) == 1  # unchanged: not posted again
