"""One app's pass never stops another app or the process (issue 11, class 5): whatever a hostile
manifest makes a pass raise — a TypeError deep in the marking, a RecursionError in the drift check —
becomes that app's error (Degraded, with the reason) while the other apps keep syncing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.agent.conftest import TOKEN, GitOpsRepo, agent_namespace, deployment, image_of
from tests.agent.test_loop import running, wait_until
from updater.agent.client import KubeClient, load_config
from updater.agent.loop import Agent
from updater.agent.settings import AgentSettings, AppSettings
from updater.errors import ExitCode, UpdaterError
from updater_sandbox.kube.server import KubeApiServer

# metadata.labels as a list: a valid Kubernetes-looking object that breaks the marking with a TypeError
LABELS_AS_LIST = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: odd\n  namespace: shop\n  labels: [a, b]\n"
# 990 nested lists: parses and applies, then the next pass's field-by-field drift check recurses too deep
DEEP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep, namespace: shop}\nspec: " + "[" * 990 + "]" * 990 + "\n"


def two_apps(kubeconfig: Path, gitops: GitOpsRepo, tmp_path: Path) -> Agent:
    """"bad" (clusters/bad) first, then "shop" (clusters/prod): a pass of bad that escaped would stop shop."""
    common = {"repo": gitops.url, "token_env": "GIT_TOKEN", "interval": 0.2}
    settings = AgentSettings(apps=(AppSettings(name="bad", path="clusters/bad", **common),  # type: ignore[arg-type]
                                   AppSettings(name="shop", path="clusters/prod", **common)),  # type: ignore[arg-type]
                             cluster="prod", cache_dir=tmp_path / "cache", kubeconfig=kubeconfig)
    client = KubeClient(load_config(kubeconfig=kubeconfig, context=None, env={}))
    return Agent(settings, client, env={"GIT_TOKEN": TOKEN})


def stored_status(kube: KubeApiServer, app: str) -> dict[str, object] | None:
    cm = kube.get("v1", "ConfigMap", f"updater-inventory-{app}", "updater-system")
    return json.loads(cm["data"]["status"]) if cm else None


def test_an_unexpected_exception_is_that_apps_error_and_the_others_sync(
        kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo, tmp_path: Path) -> None:
    agent_namespace(kube_api)
    gitops.commit({"clusters/bad/odd.yaml": LABELS_AS_LIST}, "an object that breaks the agent")
    agent = two_apps(kubeconfig, gitops, tmp_path)
    with pytest.raises(UpdaterError) as caught:  # --once still says that an app failed, with its own code
        agent.run_once()
    assert caught.value.exit_code == ExitCode.UNEXPECTED
    assert str(caught.value).startswith("app bad: the pass stopped on an unexpected TypeError")
    assert image_of(kube_api) == "ghcr.io/acme/api:1.0.0"  # shop synced after bad's pass blew up
    assert (stored_status(kube_api, "shop") or {})["errors"] == []
    bad = stored_status(kube_api, "bad") or {}
    assert bad["health"] == "Degraded" and bad["sync"] == "OutOfSync"
    assert "unexpected TypeError" in str(bad["errors"])
    assert kube_api.list("v1", "Event", "updater-system")[0]["reason"] == "SyncFailed"


# The deep manifest is now refused by the YAML limits before anything can recurse; either way the
# loop goes on for the other app.
@pytest.mark.parametrize(("hostile", "reason"), [(LABELS_AS_LIST, "unexpected"), (DEEP, "nested over 256 levels")],
                         ids=["type-error", "recursion-error"])
def test_the_loop_goes_on_for_every_app_after_a_hostile_manifest(
        kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo, tmp_path: Path, hostile: str,
        reason: str) -> None:
    agent_namespace(kube_api)
    gitops.commit({"clusters/bad/hostile.yaml": hostile}, "a hostile manifest")
    agent = two_apps(kubeconfig, gitops, tmp_path)
    with running(agent):
        wait_until(lambda: image_of(kube_api) == "ghcr.io/acme/api:1.0.0", 10)
        wait_until(lambda: bool((stored_status(kube_api, "bad") or {}).get("errors")), 10)
        gitops.commit({"clusters/prod/api/deployment.yaml": deployment("ghcr.io/acme/api:2.0.0")}, "bump")
        wait_until(lambda: image_of(kube_api) == "ghcr.io/acme/api:2.0.0", 10)  # still syncing shop
    bad = stored_status(kube_api, "bad") or {}
    assert bad["health"] == "Degraded" and reason in str(bad["errors"])
    assert 'updater_agent_syncs_total{app="bad",cluster="prod",outcome="error"}' in agent.metrics.render()
