"""Drift seen at once, against the Kubernetes emulator's watch streams: a manual edit or delete is
healed within about 2 s while the poll interval is a minute; the agent's own applies wake nothing;
one watch per kind; 410 Gone means list again. And `--once --wait`: final health from fresh reads."""

from __future__ import annotations

from typing import Any

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.agent.conftest import TOKEN, GitOpsRepo, agent_namespace, deployment, image_of, make_agent
from updater.agent.client import KubeClient, load_config
from updater.agent.loop import Agent
from updater.agent.objects import APP_LABEL
from updater.agent.watch import DriftWatch, Gone, foreign_change
from updater.cli import main
from updater_sandbox.kube.server import KubeApiServer


def until(check: Callable[[], bool], timeout: float) -> float:
    """Seconds until `check()` held; fails the test after `timeout`."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < timeout, f"not within {timeout}s"
        time.sleep(0.02)
    return time.monotonic() - started


@contextmanager
def running(agent: Agent) -> Iterator[threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(target=agent.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        agent.wake.set()
        thread.join(timeout=10)


def watching(kube: KubeApiServer, kinds: int) -> Callable[[], bool]:
    return lambda: kube.count("watch") >= kinds


def test_a_manual_edit_is_healed_within_two_seconds_though_the_interval_is_a_minute(
        kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo, tmp_path: Path) -> None:
    agent_namespace(kube_api)
    agent = make_agent(kubeconfig, gitops, tmp_path, self_heal=True, interval=60.0)
    with running(agent):
        until(lambda: image_of(kube_api) == "ghcr.io/acme/api:1.0.0", 10)
        until(watching(kube_api, 3), 10)  # Namespace, ConfigMap, Deployment: one watch each
        time.sleep(0.3)
        assert kube_api.count("watch") == 3  # one per kind, not one per object
        edited = kube_api.get("apps/v1", "Deployment", "api", "shop")
        assert edited is not None
        edited["spec"]["template"]["spec"]["containers"][0]["image"] = "evil/api:hacked"
        # the first pass is over (it holds this lock from observe to remembering what it applied)
        until(lambda: kube_api.get("v1", "ConfigMap", "updater-inventory-shop", "updater-system") is not None
              and not agent.heal.passing.locked(), 10)
        kube_api.clear_log()
        kube_api.put(edited, manager="kubectl-edit")
        assert image_of(kube_api) == "evil/api:hacked"
        assert until(lambda: image_of(kube_api) == "ghcr.io/acme/api:1.0.0", 5) < 2.0
        # healed on the fast path: the manifest was known, so no pass (no list) was needed ...
        assert kube_api.count("list", "deployments") == 0 and kube_api.count("apply", "deployments") == 1
        def drift() -> list[dict[str, Any]]:
            return [e for e in kube_api.list("v1", "Event", "updater-system") if e["reason"] == "Drift"]

        until(lambda: bool(drift()), 10)  # the Event is written after the heal, by the same thread
        assert "Deployment.apps shop/api" in drift()[-1]["message"]  # ... and still reported
        kube_api.delete("v1", "ConfigMap", "settings", "shop")  # a delete: a full pass re-creates it
        assert until(lambda: kube_api.get("v1", "ConfigMap", "settings", "shop") is not None, 5) < 2.0
        assert kube_api.count("watch") == 0  # bounded: the three watches stayed open, none was added


def test_the_agents_own_applies_and_status_writes_wake_nothing(
        kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo, tmp_path: Path) -> None:
    agent_namespace(kube_api)
    agent = make_agent(kubeconfig, gitops, tmp_path, interval=60.0)
    with running(agent):
        until(lambda: image_of(kube_api) == "ghcr.io/acme/api:1.0.0", 10)
        until(watching(kube_api, 3), 10)
        gitops.commit({"clusters/prod/api/deployment.yaml": deployment("ghcr.io/acme/api:1.1.0")}, "bump")
        agent.wake.set()  # as the webhook would
        until(lambda: image_of(kube_api) == "ghcr.io/acme/api:1.1.0", 10)
        time.sleep(0.3)  # let the pass record itself
        kube_api.clear_log()
        time.sleep(1.5)
        assert kube_api.count("list", "deployments") == 0  # no pass: the events were our own
        # a change to an object the agent does not manage is not watched at all
        kube_api.put({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other", "namespace": "shop"}})
        time.sleep(1.0)
        assert kube_api.count("list", "deployments") == 0


def test_foreign_change_reads_the_newest_managed_fields_entry() -> None:
    ours = {"manager": "updater", "operation": "Apply", "time": "2026-01-01T00:00:01Z"}
    status = {"manager": "kube-controller-manager", "subresource": "status", "time": "2026-01-01T00:00:02Z"}
    edit = {"manager": "kubectl-edit", "operation": "Update", "time": "2026-01-01T00:00:03Z"}
    older_edit = {**edit, "time": "2026-01-01T00:00:00Z"}

    def meta(*entries: dict[str, str]) -> dict[str, object]:
        return {"metadata": {"managedFields": list(entries)}}

    assert not foreign_change("MODIFIED", meta(ours, status))
    assert not foreign_change("MODIFIED", meta(older_edit, ours))
    assert foreign_change("MODIFIED", meta(ours, status, edit))
    assert foreign_change("DELETED", meta(ours))
    assert foreign_change("ADDED", meta(edit))
    assert not foreign_change("BOOKMARK", {"metadata": {"resourceVersion": "9"}})


def test_a_stale_resource_version_is_gone_and_the_watch_lists_again(kube_api: KubeApiServer, kubeconfig: Path) -> None:
    kube_api.store.events = deque(kube_api.store.events, maxlen=3)  # an API server that remembers little
    client = KubeClient(load_config(kubeconfig=kubeconfig, context=None, env={}))
    configmaps = client.resource("v1", "ConfigMap")
    assert configmaps is not None
    for n in range(5):
        kube_api.put({"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {"name": f"c{n}", "namespace": "default", "labels": {APP_LABEL: "shop"}}})
    stop = threading.Event()
    changed: list[str] = []
    watch = DriftWatch(client, lambda: {("", "ConfigMap"): "v1"}, lambda app, kind, obj: changed.append(app),
                       stop=stop, refresh=0.1)
    with pytest.raises(Gone):
        next(iter(watch._stream(configmaps, "1")))
    watch.start()
    try:
        until(lambda: kube_api.count("watch") >= 2, 5)  # the first was the stale one above
        kube_api.delete("v1", "ConfigMap", "c0", "default")
        until(lambda: changed == ["shop"], 5)
    finally:
        stop.set()


@pytest.mark.parametrize(("mode", "code", "says"), [("complete", 0, ""), ("hang", 7, "still progressing after 1s"),
                                                    ("fail", 7, "degraded")])
def test_once_wait_reports_final_health_from_fresh_reads(
        mode: str, code: int, says: str, kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo,
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    agent_namespace(kube_api)
    monkeypatch.setenv("GIT_TOKEN", TOKEN)
    kube_api.controller.set_mode("Deployment", "shop", "api", mode)
    started = time.monotonic()
    assert main(["agent", "--repo", gitops.url, "--path", "clusters/prod", "--name", "shop", "--token-env",
                 "GIT_TOKEN", "--kubeconfig", str(kubeconfig), "--cache-dir", str(tmp_path / "c"),
                 "--once", "--wait=1s"]) == code
    err = capsys.readouterr().err
    assert says in err
    if mode != "complete":
        assert "Deployment.apps shop/api" in err
    assert time.monotonic() - started < 15


def test_wait_without_once_is_bad_input(gitops: GitOpsRepo, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["agent", "--repo", gitops.url, "--wait"]) == 2
    assert "--wait: only with --once" in capsys.readouterr().err


def test_a_replica_without_the_lease_heals_nothing_at_once(kube_api: KubeApiServer, kubeconfig: Path,
                                                           gitops: GitOpsRepo, tmp_path: Path) -> None:
    agent_namespace(kube_api)
    agent = make_agent(kubeconfig, gitops, tmp_path, self_heal=True)
    agent.sync_app(agent.settings.apps[0])  # remembers the manifests it applied
    edited = kube_api.get("apps/v1", "Deployment", "api", "shop")
    assert edited is not None
    edited["spec"]["template"]["spec"]["containers"][0]["image"] = "evil/api:hacked"
    live = kube_api.put(edited, manager="kubectl-edit")
    agent.heal.enabled = False  # what the loop sets while another replica leads
    assert agent.heal.try_heal("shop", "MODIFIED", live) is False
    assert image_of(kube_api) == "evil/api:hacked"
    agent.heal.enabled = True
    assert agent.heal.try_heal("shop", "MODIFIED", live) is True
    assert image_of(kube_api) == "ghcr.io/acme/api:1.0.0"


def test_a_watch_ends_with_its_stream_once_no_app_renders_the_kind(kube_api: KubeApiServer, kubeconfig: Path) -> None:
    client = KubeClient(load_config(kubeconfig=kubeconfig, context=None, env={}))
    kinds = {("", "ConfigMap"): "v1"}
    stop = threading.Event()
    watch = DriftWatch(client, lambda: dict(kinds), lambda app, kind, obj: None, stop=stop, refresh=0.1,
                       stream_seconds=1)
    watch.start()
    try:
        until(lambda: kube_api.count("watch") >= 2, 5)  # the 1 s stream ended and was reopened: still wanted
        kinds.clear()
        thread = watch.watching[("", "ConfigMap")]
        thread.join(timeout=5)
        assert not thread.is_alive()
    finally:
        stop.set()


def test_no_watch_flag_and_config_key(gitops: GitOpsRepo) -> None:
    from updater.agent.settings import build_settings

    config = {"apps": [{"repo": gitops.url}]}
    assert build_settings({}, config=config).watch is True
    assert build_settings({"no_watch": True}, config=config).watch is False
    assert build_settings({}, config={**config, "watch": False}).watch is False
