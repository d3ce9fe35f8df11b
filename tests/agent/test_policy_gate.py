"""The operator's policy at apply time, against the Kubernetes emulator and a real git repository:
a violating object stops the whole app (nothing applied, no half state), and the rule and the object
are named in the status, the Event, the commit status and the --dry-run output. The policy comes
from the agent config or a ConfigMap in the agent's namespace, never from the repository."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from tests.agent.conftest import TOKEN, GitOpsRepo, agent_namespace, deployment, image_of, make_agent
from updater.agent.loop import Agent
from updater.agent.policy_gate import PolicyUnavailable, PolicyViolation
from updater.cli import main
from updater.policy import policy_from_mapping
from updater_sandbox.kube.server import KubeApiServer

STRICT = {"allowed-registries": ["ghcr.io/acme"], "forbid-mutable-tags": True}


class Posted:
    """Commit statuses as the forge would receive them (an in-memory poster, not a client mock)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, str]] = []

    def post(self, sha: str, *, state: str, description: str, context: str) -> None:
        self.calls.append((sha, state, description, context))


def strict_agent(kubeconfig: Path, gitops: GitOpsRepo, tmp_path: Path, posted: Posted | None = None,
                 **settings: object) -> Agent:
    base = make_agent(kubeconfig, gitops, tmp_path)
    policy = policy_from_mapping(STRICT, source="test")
    merged = replace(base.settings, **{"policy": policy, **settings})  # type: ignore[arg-type]
    return Agent(merged, base.client, env={"GIT_TOKEN": TOKEN}, statuses={"shop": posted} if posted else None)


def test_a_violating_object_stops_the_whole_app_and_is_named_everywhere(
        kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo, tmp_path: Path) -> None:
    agent_namespace(kube_api)
    gitops.commit({"clusters/prod/api/deployment.yaml": deployment("nginx:latest")}, "unpinned image")
    posted = Posted()
    agent = strict_agent(kubeconfig, gitops, tmp_path, posted)
    status = agent.sync_app(agent.settings.apps[0])
    assert status.health == "Degraded" and status.sync == "OutOfSync"
    assert "policy allowed-registries: Deployment shop/api, container api" in status.errors[0]
    assert "(and 1 more)" in status.errors[0]  # the mutable tag too
    # nothing of the app applied: not the Namespace nor the ConfigMap that broke no rule
    assert image_of(kube_api) is None
    assert kube_api.get("v1", "ConfigMap", "settings", "shop") is None
    assert kube_api.get("v1", "Namespace", "shop") is None
    event = kube_api.list("v1", "Event", "updater-system")[-1]
    assert event["reason"] == "SyncFailed" and "policy allowed-registries" in event["message"]
    assert "Deployment shop/api" in event["message"]
    sha, state, description, context = posted.calls[-1]
    assert state == "failure" and context == "updater/prod" and "policy allowed-registries" in description
    assert "Deployment shop/api" in description


def test_a_compliant_commit_applies_and_a_later_violation_leaves_the_cluster_as_it_was(
        kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo, tmp_path: Path) -> None:
    agent_namespace(kube_api)
    agent = strict_agent(kubeconfig, gitops, tmp_path)
    app = agent.settings.apps[0]
    assert agent.sync_app(app).errors == ()
    assert image_of(kube_api) == "ghcr.io/acme/api:1.0.0"
    gitops.commit({"clusters/prod/api/deployment.yaml": deployment("ghcr.io/acme/api:latest"),
                   "clusters/prod/api/settings.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n"
                                                      "  namespace: shop\ndata:\n  mode: slow\n"}, "latest")
    status = agent.sync_app(app)
    assert status.errors and "policy no-mutable-tags: Deployment shop/api" in status.errors[0]
    assert image_of(kube_api) == "ghcr.io/acme/api:1.0.0"
    settings = kube_api.get("v1", "ConfigMap", "settings", "shop")
    assert settings is not None and settings["data"]["mode"] == "fast"  # the compliant change waited too


def test_an_exemption_from_the_operator_lets_the_object_through(
        kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo, tmp_path: Path) -> None:
    agent_namespace(kube_api)
    gitops.commit({"clusters/prod/api/deployment.yaml": deployment("docker.io/library/nginx:1.27")}, "nginx")
    policy = policy_from_mapping({**STRICT, "exemptions": [{"rule": "allowed-registries",
                                                            "objects": ["shop/Deployment/api"]}]}, source="test")
    agent = strict_agent(kubeconfig, gitops, tmp_path, policy=policy)
    assert agent.sync_app(agent.settings.apps[0]).errors == ()
    assert image_of(kube_api) == "docker.io/library/nginx:1.27"


def test_policy_from_a_configmap_in_the_agents_namespace_and_fail_closed_when_missing(
        kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo, tmp_path: Path) -> None:
    agent_namespace(kube_api)
    base = make_agent(kubeconfig, gitops, tmp_path)
    agent = Agent(replace(base.settings, policy_configmap="updater-policy"), base.client, env={"GIT_TOKEN": TOKEN})
    app = agent.settings.apps[0]
    status = agent.sync_app(app)
    assert "policy ConfigMap updater-system/updater-policy does not exist" in status.errors[0]
    assert image_of(kube_api) is None
    kube_api.put({"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"name": "updater-policy", "namespace": "updater-system"},
                  "data": {"policy.yaml": "digest-required-in: [shop]\n"}})
    status = agent.sync_app(app)
    assert "policy digest-required: Deployment shop/api" in status.errors[0] and image_of(kube_api) is None
    kube_api.put({"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"name": "updater-policy", "namespace": "updater-system"},
                  "data": {"policy.yaml": "forbid-host-network: true\n"}})
    assert agent.sync_app(app).errors == ()  # an operator's edit applies on the next pass
    assert image_of(kube_api) == "ghcr.io/acme/api:1.0.0"
    kube_api.put({"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"name": "updater-policy", "namespace": "updater-system"},
                  "data": {"policy.yaml": "forbid-everything: true\n"}})
    with pytest.raises(PolicyUnavailable, match="unknown key 'forbid-everything'"):
        agent.gate.enforce("shop", [])


def test_a_policy_in_the_repository_is_not_read(kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo,
                                                tmp_path: Path) -> None:
    """The repository's authors cannot loosen (or write) the operator's policy: a `.updater.yml` or a
    policy ConfigMap committed to the tree is just another object to deploy, checked like the rest."""
    agent_namespace(kube_api)
    gitops.commit({".updater.yml": "policy:\n  exemptions: [{rule: '*', objects: ['*']}]\n",
                   "clusters/prod/api/deployment.yaml": deployment("nginx:latest")}, "try to exempt itself")
    agent = strict_agent(kubeconfig, gitops, tmp_path)
    status = agent.sync_app(agent.settings.apps[0])
    assert status.errors and "policy allowed-registries" in status.errors[0] and image_of(kube_api) is None


def test_dry_run_prints_the_refusal_and_exits_4(kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo,
                                                tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    agent_namespace(kube_api)
    monkeypatch.setenv("GIT_TOKEN", TOKEN)
    gitops.commit({"clusters/prod/api/deployment.yaml": deployment("ghcr.io/acme/api:latest")}, "latest")
    config = tmp_path / "agent.yml"
    config.write_text(json.dumps({
        "apps": [{"name": "shop", "repo": gitops.url, "path": "clusters/prod", "token_env": "GIT_TOKEN"}],
        "policy": {"forbid-mutable-tags": True}}))
    code = main(["agent", "--config", str(config), "--kubeconfig", str(kubeconfig), "--cache-dir",
                 str(tmp_path / "c"), "--dry-run"])
    out, err = capsys.readouterr()
    assert code == PolicyViolation.exit_code == 4
    assert "# refused by policy (app shop): Deployment shop/api, container api: image ghcr.io/acme/api:latest" in out
    assert "policy no-mutable-tags" in err and image_of(kube_api) is None


def test_a_bad_policy_in_the_config_is_bad_input(gitops: GitOpsRepo, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "agent.yml"
    config.write_text(json.dumps({"apps": [{"repo": gitops.url}], "policy": {"forbid-mutable-tag": True}}))
    assert main(["agent", "--config", str(config), "--once"]) == 2
    assert "policy: unknown key 'forbid-mutable-tag'" in capsys.readouterr().err
