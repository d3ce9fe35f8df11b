"""deploy/ builds with the real kustomize and the emulator accepts it through `kubectl apply --server-side`."""

from __future__ import annotations

import collections
from pathlib import Path
from collections.abc import Callable

from updater.agent import yamldocs
from updater.kustomize import build
from updater.proc import Result
from updater_sandbox.kube.server import KubeApiServer

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_deploy_builds_and_is_least_privilege() -> None:
    objects = yamldocs.load_all(build(DEPLOY))
    kinds = collections.Counter(o["kind"] for o in objects)
    assert kinds == {"Namespace": 1, "ServiceAccount": 1, "Role": 1, "RoleBinding": 1, "ClusterRole": 1,
                     "ClusterRoleBinding": 1, "ConfigMap": 1, "Deployment": 1, "Service": 1}
    assert all(o["metadata"].get("namespace") in (None, "updater-system") for o in objects)
    rules = [r for o in objects if o["kind"] in ("Role", "ClusterRole") for r in o["rules"]]
    assert all("*" not in r["verbs"] and "*" not in r["resources"] and "*" not in r["apiGroups"] for r in rules)
    assert not any(v in r["verbs"] for r in rules for v in ("escalate", "bind", "impersonate", "watch"))
    (deployment,) = (o for o in objects if o["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["updater"] and container["args"][0] == "agent"
    assert "--leader-elect" in container["args"] and container["image"].endswith(":0.1.0")
    config = next(o for o in objects if o["kind"] == "ConfigMap")["data"]["agent.yml"]
    assert yamldocs.load(config)["apps"][0]["path"] == "clusters/prod"


def test_emulator_accepts_deploy_via_kubectl_server_side_apply(kube_api: KubeApiServer, kubectl: Callable[..., Result]) -> None:
    done = kubectl("apply", "--server-side", "-k", str(DEPLOY))
    assert done.returncode == 0, done.err
    assert kube_api.get("apps/v1", "Deployment", "updater-agent", "updater-system") is not None
    assert kube_api.get("rbac.authorization.k8s.io/v1", "ClusterRole", "updater-agent-apply") is not None
    again = kubectl("apply", "--server-side", "-k", str(DEPLOY))
    assert again.returncode == 0 and "serverside-applied" in again.out
