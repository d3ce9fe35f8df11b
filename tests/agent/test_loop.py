"""End to end against the Kubernetes API emulator and a real git repository served over HTTP:
apply, bump, drift (reported / healed), rollback by git revert, prune, empty and broken renders,
another app's objects, and the request budget of a steady-state sync."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import threading
import time
from pathlib import Path

import requests

from tests.agent.conftest import CONFIGMAP, GitOpsRepo, agent_namespace, deployment, image_of, make_agent
from updater.agent.leader import LeaderElector
from updater.agent.loop import Agent
from updater.agent.objects import APP_LABEL
from updater.agent.server import AgentServer
from updater_sandbox.kube.server import KubeApiServer


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
    # the app declares Namespace shop too: it was handed over (labelled), else it is never adopted
    kube_api.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {APP_LABEL: "shop"}}})
    kube_api.put(theirs)
    agent = make_agent(kubeconfig, gitops, tmp_path, prune=True, self_heal=True)
    app = agent.settings.apps[0]
    agent.sync_app(app)
    gitops.commit({"clusters/prod/api/settings.yaml": None}, "drop settings")
    agent.sync_app(app)  # prunes its own settings, not billing's ConfigMap
    assert kube_api.get("v1", "ConfigMap", "settings", "shop") is None

    gitops.commit({"clusters/prod/api/theirs.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: theirs, namespace: shop}\n"
                                                     "data: {x: mine}\n"}, "claim billing's object")
    status = agent.sync_app(app)
    assert status.errors == ("ConfigMap shop/theirs belongs to app billing (updater.dev/app=billing): declare it in only one app",)
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


def wait_until(predicate, timeout: float) -> float:  # type: ignore[no-untyped-def]
    """Seconds until `predicate()` held; fails after `timeout`."""
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < timeout, "condition not reached in time"
        time.sleep(0.02)
    return time.monotonic() - start


@contextlib.contextmanager
def running(agent: Agent, elector: LeaderElector | None = None):  # type: ignore[no-untyped-def]
    stop = threading.Event()
    thread = threading.Thread(target=agent.run, args=(stop, elector), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        agent.wake.set()
        thread.join(timeout=10)
        assert not thread.is_alive()


def test_loop_heals_drift_within_one_interval(kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo, tmp_path: Path) -> None:
    agent_namespace(kube_api)
    agent = make_agent(kubeconfig, gitops, tmp_path, self_heal=True, interval=1.0)
    with running(agent):
        wait_until(lambda: image_of(kube_api) == "ghcr.io/acme/api:1.0.0", 10)
        edited = kube_api.get("apps/v1", "Deployment", "api", "shop")
        edited["spec"]["template"]["spec"]["containers"][0]["image"] = "evil/api:hacked"
        kube_api.put(edited, manager="kubectl-edit")
        healed_after = wait_until(lambda: image_of(kube_api) == "ghcr.io/acme/api:1.0.0", 5)
    assert healed_after < 1.0 + 2.0  # one interval plus the pass itself (the benchmark's budget)


def test_signed_webhook_syncs_at_once(kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo, tmp_path: Path) -> None:
    agent_namespace(kube_api)
    agent = make_agent(kubeconfig, gitops, tmp_path, interval=300)
    server = AgentServer("127.0.0.1:0", agent.metrics, on_webhook=agent.wake.set, webhook_secret="hook-secret").start()
    try:
        with running(agent):
            wait_until(lambda: image_of(kube_api) == "ghcr.io/acme/api:1.0.0", 10)
            gitops.commit({"clusters/prod/api/deployment.yaml": deployment("ghcr.io/acme/api:3.0.0")}, "bump")
            body = b'{"ref": "refs/heads/main"}'
            signature = "sha256=" + hmac.new(b"hook-secret", body, hashlib.sha256).hexdigest()
            answer = requests.post(f"{server.url}/webhook", data=body, headers={"X-Hub-Signature-256": signature}, timeout=5)
            assert answer.status_code == 202
            wait_until(lambda: image_of(kube_api) == "ghcr.io/acme/api:3.0.0", 5)  # long before the 300 s interval
            synced_twice = 'updater_agent_syncs_total{app="shop",cluster="prod",outcome="ok"} 2'
            wait_until(lambda: synced_twice in requests.get(f"{server.url}/metrics", timeout=5).text, 60)
    finally:
        server.stop()


def test_two_agents_only_the_leader_syncs(kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo, tmp_path: Path) -> None:
    agent_namespace(kube_api)
    agents = [make_agent(kubeconfig, gitops, tmp_path / name, interval=0.2) for name in ("a", "b")]
    electors = [LeaderElector(agent.client, namespace="updater-system", identity=name, lease_seconds=15)
                for agent, name in zip(agents, ("a", "b"), strict=True)]
    with running(agents[0], electors[0]), running(agents[1], electors[1]):
        wait_until(lambda: image_of(kube_api) is not None, 10)
        time.sleep(0.6)
    synced = [bool(agent.metrics.render().count("updater_agent_syncs_total{")) for agent in agents]
    assert sorted(synced) == [False, True]
    lease = kube_api.get("coordination.k8s.io/v1", "Lease", "updater-agent", "updater-system")
    assert lease["spec"]["holderIdentity"] is None  # the leader released it on shutdown


def test_lasting_drift_is_one_event_not_one_per_pass(kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo, tmp_path: Path) -> None:
    agent_namespace(kube_api)
    agent = make_agent(kubeconfig, gitops, tmp_path)
    app = agent.settings.apps[0]
    agent.sync_app(app)
    agent.sync_app(app)
    edited = kube_api.get("v1", "ConfigMap", "settings", "shop")
    edited["data"]["mode"] = "slow"
    kube_api.put(edited, manager="kubectl-edit")
    for _ in range(3):
        assert agent.sync_app(app).drifted == ("ConfigMap shop/settings",)
    reasons = [e["reason"] for e in kube_api.list("v1", "Event", "updater-system")]
    assert reasons == ["Synced", "Drift"]
    assert inventory_status(kube_api)["sync"] == "OutOfSync"


def test_an_agent_bound_by_roles_to_its_namespaces_syncs_and_prunes(gitops: GitOpsRepo, tmp_path: Path) -> None:
    # Least privilege: Roles in "shop" and the agent's own namespace only, no cluster-wide list.
    with KubeApiServer(namespaces=("shop", "updater-system")) as kube:
        kube.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
        agent_namespace(kube)
        gitops.commit({"clusters/prod/namespace.yaml": None}, "the platform team owns the namespace")
        agent = make_agent(kube.write_kubeconfig(tmp_path / "scoped.kubeconfig"), gitops, tmp_path,
                           prune=True, allowed_namespaces=("shop",))
        app = agent.settings.apps[0]
        status = agent.sync_app(app)
        assert status.errors == () and status.sync == "Synced", status.errors
        assert image_of(kube) == "ghcr.io/acme/api:1.0.0"
        kube.clear_log()
        gitops.commit({"clusters/prod/api/settings.yaml": None}, "drop the settings")
        status = agent.sync_app(app)
        assert status.errors == () and kube.get("v1", "ConfigMap", "settings", "shop") is None  # pruned
        # the forbidden cluster-wide list is tried once per kind, then the agent lists per namespace
        assert [r.path for r in kube.requests if r.code == 403] == []
        assert {r.path for r in kube.requests if r.method == "GET" and "configmaps" in r.path} >= {
            "/api/v1/namespaces/shop/configmaps"}
