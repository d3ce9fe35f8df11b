"""Issue 11, class 3: an app confined to namespaces stays there, cluster-scoped objects included.

A confined app created a ClusterRoleBinding to cluster-admin, and adopted (then pruned) a CRD it
never created. Cluster-scoped kinds now need `allowed_cluster_kinds`; no app adopts an object it
does not own; `metadata.namespace: null` or `""` is the target namespace before the check."""

from __future__ import annotations

from pathlib import Path

from tests.agent.conftest import GitOpsRepo, agent_namespace, gitops, make_agent  # noqa: F401 (fixture)
from updater.agent.objects import APP_LABEL
from updater_sandbox.kube.server import KubeApiServer

RBAC = "rbac.authorization.k8s.io/v1"
BINDING = f"""\
apiVersion: {RBAC}
kind: ClusterRoleBinding
metadata:
  name: shop-is-admin
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}}
subjects:
- {{kind: ServiceAccount, name: default, namespace: shop}}
"""
CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.acme.io"},
    "spec": {"group": "acme.io", "scope": "Namespaced",
             "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
             "versions": [{"name": "v1", "served": True, "storage": True,
                           "schema": {"openAPIV3Schema": {"type": "object",
                                                          "x-kubernetes-preserve-unknown-fields": True}}}]},
}
CRD_YAML = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.acme.io
spec:
  group: acme.io
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
"""


def shop_namespace(kube: KubeApiServer) -> None:
    """Namespace shop exists, handed over to the app (the seed declares it)."""
    kube.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {APP_LABEL: "shop"}}})


def test_a_confined_app_may_not_create_a_cluster_role_binding(kube_api: KubeApiServer, kubeconfig: Path,
                                                               gitops: GitOpsRepo, tmp_path: Path) -> None:
    agent_namespace(kube_api)
    gitops.commit({"clusters/prod/rbac.yaml": BINDING}, "escalate")
    agent = make_agent(kubeconfig, gitops, tmp_path, allowed_namespaces=("shop",))
    status = agent.sync_app(agent.settings.apps[0])
    assert kube_api.get(RBAC, "ClusterRoleBinding", "shop-is-admin") is None
    assert status.health == "Degraded"
    assert "ClusterRoleBinding.rbac.authorization.k8s.io shop-is-admin is cluster-scoped" in status.errors[0]
    assert "allowed_cluster_kinds" in status.errors[0]


def test_the_operator_can_list_cluster_kinds_for_a_confined_app(kube_api: KubeApiServer, kubeconfig: Path,
                                                                gitops: GitOpsRepo, tmp_path: Path) -> None:
    agent_namespace(kube_api)
    gitops.commit({"clusters/prod/rbac.yaml": BINDING}, "binding")
    agent = make_agent(kubeconfig, gitops, tmp_path, allowed_namespaces=("shop",),
                       allowed_cluster_kinds=("ClusterRoleBinding.rbac.authorization.k8s.io",))
    status = agent.sync_app(agent.settings.apps[0])
    assert status.errors == ()
    assert kube_api.get(RBAC, "ClusterRoleBinding", "shop-is-admin") is not None


def test_an_existing_object_without_our_label_is_never_adopted_nor_pruned(
        kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo, tmp_path: Path) -> None:
    agent_namespace(kube_api)
    shop_namespace(kube_api)
    kube_api.put(CRD)
    gitops.commit({"clusters/prod/crd.yaml": CRD_YAML}, "declare a CRD someone else installed")
    agent = make_agent(kubeconfig, gitops, tmp_path, prune=True)
    app = agent.settings.apps[0]
    status = agent.sync_app(app)
    live = kube_api.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.acme.io")
    assert live is not None and APP_LABEL not in (live["metadata"].get("labels") or {})
    refusal = next(e for e in status.errors if "widgets.acme.io" in e)
    assert "not adopting it" in refusal
    assert f"kubectl label customresourcedefinition.apiextensions.k8s.io widgets.acme.io {APP_LABEL}=shop" in refusal

    gitops.commit({"clusters/prod/crd.yaml": None}, "drop it again")
    agent.sync_app(app)
    assert kube_api.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.acme.io") is not None


def test_a_handed_over_object_is_managed(kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo,
                                         tmp_path: Path) -> None:
    agent_namespace(kube_api)
    kube_api.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    agent = make_agent(kubeconfig, gitops, tmp_path)
    app = agent.settings.apps[0]
    refused = agent.sync_app(app)
    assert any("Namespace shop already exists" in e for e in refused.errors)
    labelled = kube_api.get("v1", "Namespace", "shop")
    assert labelled is not None
    labelled["metadata"]["labels"] = {APP_LABEL: "shop"}
    kube_api.put(labelled)
    assert agent.sync_app(app).errors == ()


def test_a_null_or_empty_namespace_is_the_target_namespace_before_the_check(
        kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo, tmp_path: Path) -> None:
    agent_namespace(kube_api)
    kube_api.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}})
    gitops.commit({"clusters/prod/namespace.yaml": None, "clusters/prod/api/deployment.yaml": None,
                   "clusters/prod/api/settings.yaml":
                       "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: null}\n---\n"
                       "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: ''}\n"}, "no namespace")
    # the target namespace (kube-system) is not among the allowed ones: both objects are refused
    agent = make_agent(kubeconfig, gitops, tmp_path, allowed_namespaces=("shop",), namespace="kube-system")
    status = agent.sync_app(agent.settings.apps[0])
    assert "ConfigMap kube-system/a is outside the allowed namespaces (shop) and 1 more" in status.errors[0]
    assert kube_api.list("v1", "ConfigMap", "kube-system") == []
    # allowed: they land in the target namespace
    shop = make_agent(kubeconfig, gitops, tmp_path / "2", allowed_namespaces=("shop",), namespace="shop")
    kube_api.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    assert shop.sync_app(shop.settings.apps[0]).errors == ()
    assert {c["metadata"]["name"] for c in kube_api.list("v1", "ConfigMap", "shop")} == {"a", "b"}
