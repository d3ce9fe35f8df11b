"""End to end against the Kubernetes API emulator and a real git repository served over HTTP:
apply, bump, drift (reported / healed), rollback by git revert, prune, empty and broken renders,
another app's objects, and the request budget of a steady-state sync."""

from __future__ import annotations

import json
from pathlib import Path

from tests.agent.conftest import CONFIGMAP, GitOpsRepo, agent_namespace, deployment, image_of, make_agent
from updater.agent.objects import APP_LABEL
from updater.sandbox.kube.server import KubeApiServer


def inventory_status(kube: KubeApiServer, app: str = "shop") -> dict:
    cm = kube.get("v1", "ConfigMap", f"updater-inventory-{app}", "updater-system")
    assert cm is not None
    return json.loads(cm["data"]["status"])


def test_first_sync_applies_the_tree_and_reports_it(kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo, tmp_path: Path) -> None:
    agent_namespace(kube_api)
    agent = make_agent(kubeconfig, gitops, tmp_path)
    status = agent.sync_app(agent.settings.apps[0])
    assert status.errors == () and status.sync == "Synced" and status.objects == 3
    assert image_of(kube_api) == "ghcr.io/acme/api:1.0.0"
    deploy = kube_api.get("apps/v1", "Deployment", "api", "shop")
    assert deploy["metadata"]["labels"][APP_LABEL] == "shop"
    assert any(m["manager"] == "updater" and m["operation"] == "Apply" for m in deploy["metadata"]["managedFields"])
    assert status.notes == ()  # README.md is not YAML; .github/ is outside the path
    stored = inventory_status(kube_api)
    assert stored["commit"] == status.commit and stored["sync"] == "Synced"
    events = kube_api.list("v1", "Event", "updater-system")
    assert [e["reason"] for e in events] == ["Synced"]


def test_bump_drift_heal_revert_and_prune(kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo, tmp_path: Path) -> None:
    agent_namespace(kube_api)
    agent = make_agent(kubeconfig, gitops, tmp_path, prune=True)
    app = agent.settings.apps[0]
    agent.sync_app(app)

    bump = gitops.commit({"clusters/prod/api/deployment.yaml": deployment("ghcr.io/acme/api:1.1.0")}, "bump api")
    status = agent.sync_app(app)
    assert status.commit == bump and image_of(kube_api) == "ghcr.io/acme/api:1.1.0"
    assert status.applied == ("Deployment.apps shop/api configured",)

    edited = kube_api.get("apps/v1", "Deployment", "api", "shop")
    edited["spec"]["template"]["spec"]["containers"][0]["image"] = "evil/api:hacked"
    kube_api.put(edited, manager="kubectl-edit")
    status = agent.sync_app(app)  # no self-heal: reported, left alone
    assert status.sync == "OutOfSync" and status.drifted == ("Deployment.apps shop/api",)
    assert image_of(kube_api) == "evil/api:hacked"
    assert kube_api.list("v1", "Event", "updater-system")[-1]["reason"] == "Drift"

    healing = make_agent(kubeconfig, gitops, tmp_path, prune=True, self_heal=True)
    app = healing.settings.apps[0]
    status = healing.sync_app(app)
    assert status.sync == "Synced" and status.applied == ("Deployment.apps shop/api configured",)
    assert image_of(kube_api) == "ghcr.io/acme/api:1.1.0"

    rollback = gitops.revert(bump)
    status = healing.sync_app(app)
    assert status.commit == rollback and image_of(kube_api) == "ghcr.io/acme/api:1.0.0"

    gitops.commit({"clusters/prod/api/settings.yaml": None}, "drop settings")
    status = healing.sync_app(app)
    assert status.pruned == ("ConfigMap shop/settings",)
    assert kube_api.get("v1", "ConfigMap", "settings", "shop") is None
    assert image_of(kube_api) == "ghcr.io/acme/api:1.0.0"


def test_without_prune_removed_files_stay_and_are_pruned_once_enabled(kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo, tmp_path: Path) -> None:
    agent_namespace(kube_api)
    agent = make_agent(kubeconfig, gitops, tmp_path)
    agent.sync_app(agent.settings.apps[0])
    gitops.commit({"clusters/prod/api/settings.yaml": None}, "drop settings")
    assert agent.sync_app(agent.settings.apps[0]).pruned == ()
    assert kube_api.get("v1", "ConfigMap", "settings", "shop") is not None
    pruning = make_agent(kubeconfig, gitops, tmp_path, prune=True)
    assert pruning.sync_app(pruning.settings.apps[0]).pruned == ("ConfigMap shop/settings",)


def test_empty_and_broken_renders_delete_nothing(kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo, tmp_path: Path) -> None:
    agent_namespace(kube_api)
    agent = make_agent(kubeconfig, gitops, tmp_path, prune=True)
    app = agent.settings.apps[0]
    agent.sync_app(app)
    before = kube_api.get("apps/v1", "Deployment", "api", "shop")["metadata"]["resourceVersion"]

    gitops.commit({"clusters/prod/api/deployment.yaml": "kind: [broken\n",
                   "clusters/prod/api/settings.yaml": CONFIGMAP.replace("fast", "slow")}, "broken")
    status = agent.sync_app(app)
    assert status.errors and "clusters/prod/api/deployment.yaml: not valid YAML" in status.errors[0]
    assert kube_api.get("v1", "ConfigMap", "settings", "shop")["data"] == {"mode": "fast"}  # nothing half-applied
    assert kube_api.get("apps/v1", "Deployment", "api", "shop")["metadata"]["resourceVersion"] == before
    assert inventory_status(kube_api)["errors"] == list(status.errors)

    gitops.commit({"clusters/prod/namespace.yaml": None, "clusters/prod/api/deployment.yaml": None,
                   "clusters/prod/api/settings.yaml": None}, "empty")
    status = agent.sync_app(app)
    assert status.errors == () and status.pruned == ()
    assert any("render is empty" in note for note in status.notes)
    assert kube_api.get("apps/v1", "Deployment", "api", "shop") is not None


def test_another_apps_objects_are_never_touched(kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo, tmp_path: Path) -> None:
    agent_namespace(kube_api)
    theirs = {"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "theirs", "namespace": "shop", "labels": {APP_LABEL: "billing"}}, "data": {"x": "1"}}
    kube_api.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    kube_api.put(theirs)
    agent = make_agent(kubeconfig, gitops, tmp_path, prune=True, self_heal=True)
    app = agent.settings.apps[0]
    agent.sync_app(app)
    gitops.commit({"clusters/prod/api/settings.yaml": None}, "drop settings")
    agent.sync_app(app)
    kept = kube_api.get("v1", "ConfigMap", "theirs", "shop")
    assert kept is not None and kept["data"] == {"x": "1"} and kept["metadata"]["labels"][APP_LABEL] == "billing"


def test_steady_state_sync_lists_each_kind_once_and_writes_nothing(kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo, tmp_path: Path) -> None:
    agent_namespace(kube_api)
    agent = make_agent(kubeconfig, gitops, tmp_path, prune=True, self_heal=True)
    app = agent.settings.apps[0]
    agent.sync_app(app)
    agent.sync_app(app)  # status settles (Progressing -> Healthy) and is stored once
    kube_api.clear_log()
    status = agent.sync_app(app)
    counts = kube_api.counts()
    assert status.sync == "Synced" and status.health == "Healthy" and status.applied == ()
    assert {verb for verb, _ in counts} <= {"list", "get", "discovery"}
    assert all(n == 1 for (verb, _), n in counts.items() if verb == "list")
    assert counts[("list", "deployments")] == 1 and counts[("get", "configmaps")] == 1
