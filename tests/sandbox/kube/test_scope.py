"""A Role-bound caller: inside its namespaces everything works, outside it gets the API server's 403."""

from __future__ import annotations

import requests

from updater_sandbox.kube.scope import forbidden_outside
from updater_sandbox.kube.server import KubeApiServer


def test_what_a_role_bound_caller_may_reach() -> None:
    ns = ("apps",)
    for path in ("/version", "/api", "/api/v1", "/apis", "/apis/apps", "/apis/apps/v1", "/openapi/v3",
                 "/api/v1/namespaces/apps/configmaps", "/apis/apps/v1/namespaces/apps/deployments/api"):
        assert forbidden_outside(path, "GET", ns) is None, path
    cluster_list = forbidden_outside("/apis/apps/v1/deployments", "GET", ns)
    assert cluster_list is not None and cluster_list.code == 403
    assert 'cannot list resource "deployments" at the cluster scope' in cluster_list.message
    other = forbidden_outside("/api/v1/namespaces/kube-system/secrets/x", "GET", ns)
    assert other is not None and 'cannot get resource "secrets" in the namespace "kube-system"' in other.message
    assert forbidden_outside("/api/v1/namespaces/apps", "GET", ns) is not None  # the Namespace object itself
    assert forbidden_outside("/api/v1/namespaces", "POST", ns) is not None


def test_the_server_enforces_the_scope_with_a_status_body() -> None:
    with KubeApiServer(namespaces=("apps",)) as server:
        inside = requests.get(f"{server.url}/api/v1/namespaces/apps/configmaps", timeout=5)
        assert inside.status_code == 200 and inside.json()["kind"] == "ConfigMapList"
        outside = requests.get(f"{server.url}/api/v1/configmaps", timeout=5)
        assert outside.status_code == 403
        assert outside.json()["kind"] == "Status" and outside.json()["reason"] == "Forbidden"
