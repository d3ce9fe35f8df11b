"""Apply order against the emulator: a CRD and its custom resources in one render, immutable fields
reported (or the object re-created when it opts in), and the client's error mapping."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from pathlib import Path

import pytest

from tests.agent.conftest import GitOpsRepo, agent_namespace, make_agent
from updater.agent.client import KubeClient, KubeForbidden, KubeNotFound, load_config
from updater_sandbox.kube.server import KubeApiServer

CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names: {plural: crontabs, singular: crontab, kind: CronTab}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
"""
CRONTAB = "apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata:\n  name: nightly\n  namespace: shop\nspec:\n  cron: '0 3 * * *'\n"


def stored(kube: KubeApiServer, version: str, kind: str, name: str, namespace: str) -> dict[str, Any]:
    obj = kube.get(version, kind, name, namespace)
    assert obj is not None, f"{kind} {namespace}/{name} is not stored"
    return obj


def service(cluster_ip: str, *, recreate: bool = False) -> str:
    note = "  annotations:\n    updater.dev/recreate: \"true\"\n" if recreate else ""
    return (f"apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  namespace: shop\n{note}"
            f"spec:\n  clusterIP: {cluster_ip}\n  ports:\n  - port: 80\n")


def test_crd_and_its_custom_resources_in_one_render(kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo, tmp_path: Path) -> None:
    agent_namespace(kube_api)
    gitops.commit({"clusters/prod/crd.yaml": CRD, "clusters/prod/nightly.yaml": CRONTAB}, "crontab")
    agent = make_agent(kubeconfig, gitops, tmp_path)
    status = agent.sync_app(agent.settings.apps[0])
    assert status.errors == ()
    order = [entry.split(" (")[0] for entry in status.applied]
    assert order.index("CustomResourceDefinition.apiextensions.k8s.io crontabs.stable.example.com created") < \
        order.index("CronTab.stable.example.com shop/nightly created")
    assert stored(kube_api, "stable.example.com/v1", "CronTab", "nightly", "shop")["spec"] == {"cron": "0 3 * * *"}


def test_immutable_field_is_reported_and_recreated_only_on_opt_in(kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo, tmp_path: Path) -> None:
    agent_namespace(kube_api)
    gitops.commit({"clusters/prod/svc.yaml": service("10.0.0.10")}, "service")
    agent = make_agent(kubeconfig, gitops, tmp_path)
    app = agent.settings.apps[0]
    agent.sync_app(app)
    uid = stored(kube_api, "v1", "Service", "api", "shop")["metadata"]["uid"]

    gitops.commit({"clusters/prod/svc.yaml": service("10.0.0.20")}, "new ip")
    status = agent.sync_app(app)
    assert status.sync == "OutOfSync" and len(status.errors) == 1
    assert "Service shop/api: an immutable field changed" in status.errors[0]
    assert 'updater.dev/recreate: "true"' in status.errors[0]
    assert stored(kube_api, "v1", "Service", "api", "shop")["spec"]["clusterIP"] == "10.0.0.10"

    gitops.commit({"clusters/prod/svc.yaml": service("10.0.0.20", recreate=True)}, "opt in")
    status = agent.sync_app(app)
    assert status.errors == () and "Service shop/api recreated" in status.applied
    live = stored(kube_api, "v1", "Service", "api", "shop")
    assert live["spec"]["clusterIP"] == "10.0.0.20" and live["metadata"]["uid"] != uid


def test_client_maps_api_errors_and_uses_the_token(tmp_path: Path) -> None:
    with KubeApiServer(token="cluster-token-999") as kube:
        good = kube.write_kubeconfig(tmp_path / "good")
        client = KubeClient(load_config(kubeconfig=good, context=None, env={}))
        configmaps = client.resource("v1", "ConfigMap")
        assert configmaps is not None and configmaps.namespaced and configmaps.plural == "configmaps"
        assert client.resource("v1", "NoSuchKind") is None
        assert client.get(configmaps, "missing", namespace="default") is None
        with pytest.raises(KubeNotFound):
            client.replace(configmaps, {"apiVersion": "v1", "kind": "ConfigMap",
                                        "metadata": {"name": "missing", "namespace": "default"}})
        bad = KubeClient(replace(load_config(kubeconfig=good, context=None, env={}), token="wrong"))
        with pytest.raises(KubeForbidden, match="check the credentials of sandbox") as caught:
            bad.list(configmaps)
        assert "cluster-token-999" not in str(caught.value) and caught.value.exit_code == 6


def test_secret_with_string_data_is_in_sync_after_apply(kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo, tmp_path: Path) -> None:
    agent_namespace(kube_api)
    gitops.commit({"clusters/prod/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: shop}\n"
                                                "stringData: {token: s3cr3t-value}\n"}, "secret")
    agent = make_agent(kubeconfig, gitops, tmp_path, self_heal=True)
    app = agent.settings.apps[0]
    assert "Secret shop/creds created" in agent.sync_app(app).applied
    assert stored(kube_api, "v1", "Secret", "creds", "shop")["data"] == {"token": "czNjcjN0LXZhbHVl"}
    again = agent.sync_app(app)
    assert again.applied == () and again.drifted == () and again.sync == "Synced"
