"""Issue 11, class 2: object names from the repository never become other URL paths.

A name such as `immutable/../../../kube-system/secrets/x` (with `updater.dev/recreate`) made the agent
of an app confined to `shop` DELETE a Secret in kube-system. The client checks and quotes every
segment, and the plan refuses the object before anything is sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.agent.conftest import GitOpsRepo, agent_namespace, gitops, make_agent  # noqa: F401 (fixture)
from updater.agent import client as kube
from updater.agent.client import KubeClient, Resource, load_config
from updater_sandbox.kube.server import KubeApiServer

SECRETS = Resource("v1", "Secret", "secrets", namespaced=True)
CONFIGMAPS = Resource("v1", "ConfigMap", "configmaps", namespaced=True)
TRAVERSAL = "immutable/../../../kube-system/secrets/x"


def victim(kube: KubeApiServer) -> None:
    kube.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}})
    kube.put({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x", "namespace": "kube-system"},
              "data": {"k": "dg=="}})


def hostile_configmap(name: str) -> str:
    return (f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name!r}\n  namespace: shop\n"
            "  annotations:\n    updater.dev/recreate: \"true\"\ndata:\n  a: b\n")


def test_a_traversing_name_stops_the_app_and_touches_nothing(kube_api: KubeApiServer, kubeconfig: Path,
                                                             gitops: GitOpsRepo, tmp_path: Path) -> None:
    agent_namespace(kube_api)
    victim(kube_api)
    gitops.commit({"clusters/prod/api/settings.yaml": hostile_configmap(TRAVERSAL)}, "hostile name")
    agent = make_agent(kubeconfig, gitops, tmp_path, allowed_namespaces=("shop",), prune=True)
    kube_api.clear_log()
    status = agent.sync_app(agent.settings.apps[0])
    assert kube_api.get("v1", "Secret", "x", "kube-system") is not None
    assert status.health == "Degraded" and len(status.errors) == 1
    assert TRAVERSAL in status.errors[0] and "cannot be a path segment" in status.errors[0]
    assert "\n" not in status.errors[0]
    touched = [r for r in kube_api.requests if r.method in ("PATCH", "PUT", "POST", "DELETE")
               and "updater-system" not in r.path]
    assert touched == []  # not even the valid objects of this commit: the app stops
    assert not any("kube-system" in r.path for r in kube_api.requests)


@pytest.mark.parametrize("name", [TRAVERSAL, "..", ".", "a%2F..%2Fb", "bad\nname", "bad\x00name", "UPPER",
                                  "x" * 254, "", "a b"])
def test_the_client_refuses_bad_names_before_sending(kube_api: KubeApiServer, kubeconfig: Path, name: str) -> None:
    victim(kube_api)
    client = KubeClient(load_config(kubeconfig=kubeconfig, context=None, env={}))
    kube_api.clear_log()
    for call in (lambda: client.delete(SECRETS, name, namespace="shop"),
                 lambda: client.get(SECRETS, name, namespace="shop"),
                 lambda: client.apply(CONFIGMAPS, {"apiVersion": "v1", "kind": "ConfigMap",
                                                   "metadata": {"name": name, "namespace": "shop"}})):
        with pytest.raises(kube.KubeBadName, match="nothing was sent"):
            call()
    assert kube_api.requests == []
    assert kube_api.get("v1", "Secret", "x", "kube-system") is not None


@pytest.mark.parametrize("namespace", ["../kube-system", "kube-system/secrets", "Shop", "a" * 64, "shop\r\n"])
def test_the_client_refuses_bad_namespaces(kube_api: KubeApiServer, kubeconfig: Path, namespace: str) -> None:
    victim(kube_api)
    client = KubeClient(load_config(kubeconfig=kubeconfig, context=None, env={}))
    kube_api.clear_log()
    with pytest.raises(kube.KubeBadName):
        client.delete(SECRETS, "x", namespace=namespace)
    with pytest.raises(kube.KubeBadName):
        client.list(SECRETS, namespace=namespace)
    assert kube_api.requests == []


def test_bad_api_versions_and_plurals_are_refused(kube_api: KubeApiServer, kubeconfig: Path) -> None:
    client = KubeClient(load_config(kubeconfig=kubeconfig, context=None, env={}))
    kube_api.clear_log()
    with pytest.raises(kube.KubeBadName):
        client.resource("v1/../../api/v1/namespaces/kube-system/secrets", "Secret")
    with pytest.raises(kube.KubeBadName):
        client.get(Resource("v1", "Secret", "secrets/../configmaps", namespaced=True), "x", namespace="shop")
    assert kube_api.requests == []


def test_valid_names_are_sent_and_quoted(kube_api: KubeApiServer, kubeconfig: Path) -> None:
    client = KubeClient(load_config(kubeconfig=kubeconfig, context=None, env={}))
    assert client.get(CONFIGMAPS, "a.b-c", namespace="shop") is None  # a subdomain: sent, and 404
    assert kube_api.requests[-1].path == "/api/v1/namespaces/shop/configmaps/a.b-c"
    # RBAC names are path segments only (the API server allows `system:...`): `:` stays, `@` is quoted
    role = Resource("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", namespaced=False)
    assert role.path(name="system:a@b") == "/apis/rbac.authorization.k8s.io/v1/clusterroles/system:a%40b"
    with pytest.raises(kube.KubeBadName):
        role.path(name="system:../../x")
