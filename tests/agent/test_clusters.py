"""One agent, several clusters, against two or three emulated API servers and a real git repository:
fan-out of one app, a tree per cluster (`{cluster}`), prune confined to its cluster, one cluster down
(refused, or hanging) without delaying the others and then back, and credentials rejected on one."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.agent.conftest import TOKEN, GitOpsRepo, agent_namespace, image_of
from tests.agent.test_policy_gate import Posted
from updater.agent.client import KubeClient, KubeForbidden, KubeUnavailable, load_config
from updater.agent.cluster_settings import ClusterSettings
from updater.agent.clusters import Fleet, fan_out
from updater.agent.leader import LeaderElector
from updater.agent.policy_gate import PolicyUnavailable, PolicyViolation
from updater.agent.settings import AgentSettings, AppSettings, build_settings
from updater.cli import main
from updater.errors import BadInput, OutOfSync
from updater_sandbox.kube.server import KubeApiServer

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: default\ndata:\n  cluster: {cluster}\n"


@pytest.fixture()
def clusters(tmp_path: Path) -> Iterator[dict[str, KubeApiServer]]:
    with KubeApiServer() as a, KubeApiServer() as b, KubeApiServer() as c:
        servers = {"a": a, "b": b, "c": c}
        for server in servers.values():
            agent_namespace(server)
        yield servers


def kubeconfigs(servers: dict[str, KubeApiServer], tmp_path: Path) -> dict[str, Path]:
    return {name: server.write_kubeconfig(tmp_path / "kube" / name) for name, server in servers.items()}


def fleet(gitops: GitOpsRepo, tmp_path: Path, configs: dict[str, Path], *, posted: Posted | None = None,
          timeout: float = 10.0, **app: object) -> Fleet:
    fields: dict[str, object] = {"name": "shop", "repo": gitops.url, "path": "clusters/prod", "token_env": "GIT_TOKEN",
                                 "interval": 0.2, "clusters": tuple(configs), **app}
    declared = tuple(ClusterSettings(name, path, timeout=timeout) for name, path in configs.items())
    settings = AgentSettings(apps=(AppSettings(**fields),), cache_dir=tmp_path / "cache",  # type: ignore[arg-type]
                             clusters=declared)
    home = KubeClient(load_config(kubeconfig=next(iter(configs.values())), context=None, env={}))
    return Fleet(settings, home, env={"GIT_TOKEN": TOKEN}, statuses={"shop": posted} if posted else None)


def test_one_app_fans_out_to_every_cluster_with_its_own_inventory_status_and_metrics(
        clusters: dict[str, KubeApiServer], gitops: GitOpsRepo, tmp_path: Path) -> None:
    configs = kubeconfigs({"a": clusters["a"], "b": clusters["b"]}, tmp_path)
    posted = Posted()
    agents = fleet(gitops, tmp_path, configs, posted=posted)
    assert agents.run_once() == 0
    for name in ("a", "b"):
        assert image_of(clusters[name]) == "ghcr.io/acme/api:1.0.0"
        inventory = clusters[name].get("v1", "ConfigMap", "updater-inventory-shop", "updater-system")
        assert inventory is not None and "Deployment|shop|api" in inventory["data"]["objects"]
        event = clusters[name].list("v1", "Event", "updater-system")[-1]
        assert event["reason"] == "Synced" and event["source"]["host"] == name
    assert image_of(clusters["c"]) is None  # not a target
    assert sorted(context for _, _, _, context in posted.calls) == ["updater/a", "updater/b"]
    assert {description for _, _, description, _ in posted.calls} == {"deployed to a: healthy", "deployed to b: healthy"}
    page = agents.metrics.render()
    assert page.count("# TYPE updater_agent_synced gauge") == 1
    assert 'updater_agent_synced{app="shop",cluster="a"} 1' in page
    assert 'updater_agent_synced{app="shop",cluster="b"} 1' in page


def test_a_tree_per_cluster_and_prune_confined_to_its_cluster(
        clusters: dict[str, KubeApiServer], gitops: GitOpsRepo, tmp_path: Path) -> None:
    gitops.commit({f"per/{name}/cm.yaml": CM.format(name="x", cluster=name) for name in ("a", "b")}
                  | {"per/b/only-b.yaml": CM.format(name="y", cluster="b")}, "a tree per cluster")
    configs = kubeconfigs({"a": clusters["a"], "b": clusters["b"]}, tmp_path)
    agents = fleet(gitops, tmp_path, configs, path="per/{cluster}", prune=True)
    agents.run_once()
    for name in ("a", "b"):
        found = clusters[name].get("v1", "ConfigMap", "x", "default")
        assert found is not None and found["data"]["cluster"] == name
    assert clusters["a"].get("v1", "ConfigMap", "y", "default") is None
    gitops.commit({"per/b/cm.yaml": None, "per/b/only-b.yaml": None,
                   "per/b/z.yaml": CM.format(name="z", cluster="b")}, "b drops x and y")
    agents.run_once()
    assert clusters["b"].get("v1", "ConfigMap", "x", "default") is None  # pruned in b ...
    assert clusters["b"].get("v1", "ConfigMap", "y", "default") is None
    assert clusters["a"].get("v1", "ConfigMap", "x", "default") is not None  # ... and only in b
    assert clusters["b"].count("delete") == 2 and clusters["a"].count("delete") == 0


def test_a_cluster_down_does_not_stop_the_others_and_is_synced_when_back(
        clusters: dict[str, KubeApiServer], gitops: GitOpsRepo, tmp_path: Path) -> None:
    configs = kubeconfigs(clusters, tmp_path)
    port = int(clusters["b"].url.rsplit(":", 1)[1])
    clusters["b"].stop()
    posted = Posted()
    agents = fleet(gitops, tmp_path, configs, posted=posted)
    with pytest.raises(KubeUnavailable, match="unreachable"):
        agents.run_once()
    assert image_of(clusters["a"]) == image_of(clusters["c"]) == "ghcr.io/acme/api:1.0.0"
    failed = [(state, description) for _, state, description, context in posted.calls if context == "updater/b"]
    assert failed and failed[-1][0] == "failure" and "unreachable" in failed[-1][1]
    page = agents.metrics.render()
    assert 'updater_agent_health{app="shop",cluster="b",state="Degraded"} 1' in page
    assert 'updater_agent_health{app="shop",cluster="a",state="Degraded"} 0' in page

    with KubeApiServer(port=port) as back:
        agent_namespace(back)
        assert agents.run_once() == 0
        assert image_of(back) == "ghcr.io/acme/api:1.0.0"
    assert [state for _, state, _, context in posted.calls if context == "updater/b"][-1] == "success"


def test_a_hanging_cluster_never_delays_the_others(clusters: dict[str, KubeApiServer], gitops: GitOpsRepo,
                                                   tmp_path: Path) -> None:
    """A server that accepts connections and never answers: its member waits out its own timeout,
    while the other clusters' loops sync (and sync again) in the meantime."""
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(64)  # connections complete in the kernel's backlog; nothing ever reads them
    configs = kubeconfigs({"a": clusters["a"]}, tmp_path)
    silent = json.loads(configs["a"].read_text())
    silent["clusters"][0]["cluster"]["server"] = f"http://127.0.0.1:{hang.getsockname()[1]}"
    configs["hung"] = tmp_path / "kube" / "hung"
    configs["hung"].write_text(json.dumps(silent))
    agents = fleet(gitops, tmp_path, configs, timeout=30.0)
    stop = threading.Event()
    runner = threading.Thread(target=agents.run, args=(stop,), daemon=True)
    started = time.monotonic()
    runner.start()
    try:
        while image_of(clusters["a"]) is None and time.monotonic() - started < 20:
            time.sleep(0.05)
        assert image_of(clusters["a"]) == "ghcr.io/acme/api:1.0.0"
        assert time.monotonic() - started < 10  # far inside the hung cluster's 30 s timeout
    finally:
        stop.set()
        agents.wake.set()
        hang.close()  # the hung member's request fails at once, and its loop sees `stop`
        runner.join(timeout=20)
    assert not runner.is_alive()


def test_credentials_rejected_on_one_cluster(gitops: GitOpsRepo, tmp_path: Path) -> None:
    with KubeApiServer(token="right") as a, KubeApiServer(token="right") as b:
        for server in (a, b):
            agent_namespace(server)
        configs = kubeconfigs({"a": a, "b": b}, tmp_path)
        wrong = json.loads(configs["b"].read_text())
        wrong["users"][0]["user"]["token"] = "wrong"
        configs["b"].write_text(json.dumps(wrong))
        posted = Posted()
        agents = fleet(gitops, tmp_path, configs, posted=posted)
        with pytest.raises(KubeForbidden, match="check the credentials"):
            agents.run_once()
        assert image_of(a) == "ghcr.io/acme/api:1.0.0" and image_of(b) is None
        assert [s for _, s, _, c in posted.calls if c == "updater/b"] == ["failure"]
        assert "wrong" not in " ".join(d for _, _, d, _ in posted.calls)


def test_fan_out_settings_and_bad_cluster_names(gitops: GitOpsRepo, tmp_path: Path) -> None:
    config = {"apps": [{"name": "web", "repo": gitops.url, "path": "envs/{cluster}", "clusters": ["eu", "us"]},
                       {"name": "local", "repo": gitops.url, "path": "local"}],
              "clusters": {"eu": {"kubeconfig": "/k/eu", "context": "eu", "timeout": "5s"}, "us": {"in_cluster": True}}}
    settings = build_settings({"cluster": "home"}, config=config, config_name="agent.yml")
    members = fan_out(settings)
    assert list(members) == ["home", "eu", "us"]
    assert [a.path for a in members["eu"].apps] == ["envs/eu"] and [a.path for a in members["us"].apps] == ["envs/us"]
    assert [a.name for a in members["home"].apps] == ["local"]
    assert members["eu"].cache_dir != members["us"].cache_dir  # no two members share a checkout
    assert settings.clusters[0].timeout == 5.0
    with pytest.raises(BadInput, match="cluster 'ap' is not declared"):
        build_settings({}, config={**config, "apps": [{"repo": "r", "clusters": ["ap"]}]}, config_name="agent.yml")
    with pytest.raises(BadInput, match="clusters.us: in_cluster excludes kubeconfig"):
        build_settings({}, config={**config, "clusters": {"us": {"in_cluster": True, "context": "x"}}},
                       config_name="agent.yml")


def test_the_command_runs_a_fleet_from_the_config(clusters: dict[str, KubeApiServer], gitops: GitOpsRepo,
                                                  tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_TOKEN", TOKEN)
    configs = kubeconfigs(clusters, tmp_path)
    config = tmp_path / "agent.yml"
    config.write_text(json.dumps({
        "apps": [{"name": "shop", "repo": gitops.url, "path": "clusters/prod", "token_env": "GIT_TOKEN",
                  "clusters": ["b", "c"]}],
        "clusters": {"b": {"kubeconfig": str(configs["b"])}, "c": {"kubeconfig": str(configs["c"])}}}))
    assert main(["agent", "--config", str(config), "--kubeconfig", str(configs["a"]), "--cache-dir",
                 str(tmp_path / "c"), "--once"]) == 0
    assert image_of(clusters["a"]) is None
    assert image_of(clusters["b"]) == image_of(clusters["c"]) == "ghcr.io/acme/api:1.0.0"


def test_dry_run_prints_each_clusters_diff_under_its_name(clusters: dict[str, KubeApiServer], gitops: GitOpsRepo,
                                                          tmp_path: Path) -> None:
    configs = kubeconfigs({"a": clusters["a"], "b": clusters["b"]}, tmp_path)
    agents = fleet(gitops, tmp_path, configs)
    agents.members["a"].sync_app(agents.members["a"].settings.apps[0])  # a is in sync, b is empty
    out = io.StringIO()
    for agent in agents.members.values():
        agent.settings = replace(agent.settings, dry_run=True)
        agent.out = out
    with pytest.raises(OutOfSync, match="out of sync: shop"):
        agents.run_once()
    text = out.getvalue()
    assert text.startswith("## cluster b\n# create Namespace shop (app shop)")
    assert "## cluster a" not in text and image_of(clusters["b"]) is None


def test_the_policy_configmap_is_read_in_the_agents_own_cluster(clusters: dict[str, KubeApiServer],
                                                                gitops: GitOpsRepo, tmp_path: Path) -> None:
    """Home is cluster a (the --kubeconfig one); the app deploys to b only. A policy ConfigMap put in b
    by whoever can write there means nothing; the one in a applies to b's deploys."""
    configs = kubeconfigs({"a": clusters["a"], "b": clusters["b"]}, tmp_path)
    policy = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "updater-policy", "namespace": "updater-system"},
              "data": {"policy.yaml": "allowed-registries: [registry.acme.internal]\n"}}
    clusters["b"].put(policy)
    declared = (ClusterSettings("b", configs["b"]),)
    settings = AgentSettings(apps=(AppSettings("shop", gitops.url, path="clusters/prod", token_env="GIT_TOKEN",
                                               clusters=("b",)),),
                             cache_dir=tmp_path / "cache", clusters=declared, policy_configmap="updater-policy")
    home = KubeClient(load_config(kubeconfig=configs["a"], context=None, env={}))
    agents = Fleet(settings, home, env={"GIT_TOKEN": TOKEN})
    with pytest.raises(PolicyUnavailable, match="updater-system/updater-policy does not exist"):
        agents.run_once()  # not in a: fail closed, whatever b holds
    clusters["a"].put(policy)
    with pytest.raises(PolicyViolation, match="policy allowed-registries: Deployment shop/api"):
        agents.run_once()
    assert image_of(clusters["b"]) is None


def test_one_lease_in_the_agents_own_cluster_leads_every_cluster(clusters: dict[str, KubeApiServer],
                                                                  gitops: GitOpsRepo, tmp_path: Path) -> None:
    configs = kubeconfigs({"b": clusters["b"], "c": clusters["c"]}, tmp_path)
    home_config = clusters["a"].write_kubeconfig(tmp_path / "kube" / "home")
    leaders = []
    for identity in ("one", "two"):
        agents = fleet(gitops, tmp_path / identity, configs)
        home = KubeClient(load_config(kubeconfig=home_config, context=None, env={}))
        leaders.append((agents, LeaderElector(home, namespace="updater-system", identity=identity, lease_seconds=30)))
    stop = threading.Event()
    threads = [threading.Thread(target=agents.run, args=(stop, elector), daemon=True) for agents, elector in leaders]
    threads[0].start()
    until = time.monotonic() + 20
    while (image_of(clusters["b"]) is None or image_of(clusters["c"]) is None) and time.monotonic() < until:
        time.sleep(0.05)
    threads[1].start()
    time.sleep(1.0)
    stop.set()
    for agents, _ in leaders:
        agents.wake.set()
    for thread in threads:
        thread.join(timeout=20)
    lease = clusters["a"].get("coordination.k8s.io/v1", "Lease", "updater-agent", "updater-system")
    assert image_of(clusters["b"]) == image_of(clusters["c"]) == "ghcr.io/acme/api:1.0.0"
    assert lease is not None and clusters["b"].get("coordination.k8s.io/v1", "Lease", "updater-agent",
                                                   "updater-system") is None  # the Lease is home's only
    assert leaders[1][0].metrics.render().count("updater_agent_syncs_total{") == 0  # the standby synced nothing
