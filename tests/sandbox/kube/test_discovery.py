"""Discovery documents, URL routing and the OpenAPI kubectl reads."""

from __future__ import annotations

from updater_sandbox.kube import openapi, routes
from updater_sandbox.kube.discovery import Discovery, crd_resource_types

CRD = {"metadata": {"name": "widgets.acme.io"},
       "spec": {"group": "acme.io", "scope": "Cluster", "names": {"kind": "Widget", "plural": "widgets"},
                "versions": [{"name": "v1", "served": True, "subresources": {"status": {}}},
                             {"name": "v0", "served": False}]}}


def test_routes_address_namespaced_cluster_and_sub_resources() -> None:
    d = Discovery()
    target = routes.parse("/apis/apps/v1/namespaces/prod/deployments/web/status", d)
    assert isinstance(target, routes.Target)
    assert (target.rt.kind, target.namespace, target.name, target.subresource) == ("Deployment", "prod", "web", "status")
    ns = routes.parse("/api/v1/namespaces/prod", d)
    assert isinstance(ns, routes.Target) and (ns.rt.kind, ns.namespace, ns.name) == ("Namespace", "", "prod")
    every = routes.parse("/apis/apps/v1/deployments", d)
    assert isinstance(every, routes.Target) and (every.namespace, every.name) == ("", "")
    assert routes.parse("/apis/apps/v1/namespaces/prod/deployments/web/bogus", d) is None
    assert routes.parse("/apis/nope/v1/things", d) is None
    assert routes.parse("/apis/apps", d) == routes.DiscoveryPath("apps", None, core=False)


def test_crds_add_and_remove_kinds() -> None:
    d = Discovery()
    types = crd_resource_types(CRD)
    assert [(t.api_version, t.kind, t.namespaced, t.subresources) for t in types] == [
        ("acme.io/v1", "Widget", False, ("status",))]
    d.add_crd("widgets.acme.io", types)
    assert d.by_kind("acme.io/v1", "Widget") is not None
    assert d.resource_list_document("acme.io", "v1")["resources"][1]["name"] == "widgets/status"
    aggregated = d.aggregated_document(core=False)
    assert "acme.io" in [item["metadata"]["name"] for item in aggregated["items"]]
    d.remove_crd("widgets.acme.io")
    assert d.by_kind("acme.io/v1", "Widget") is None and d.resource_list_document("acme.io", "v1") is None


def test_openapi_declares_field_validation_for_every_kind() -> None:
    d = Discovery()
    index = openapi.document_for_path(d, "/openapi/v3")
    assert index["paths"]["apis/apps/v1"]["serverRelativeURL"].startswith("/openapi/v3/apis/apps/v1?hash=")
    apps = openapi.document_for_path(d, "/openapi/v3/apis/apps/v1")
    patch = apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {"group": "apps", "version": "v1", "kind": "Deployment"}
    assert patch["parameters"][0]["name"] == "fieldValidation"
    assert openapi.document_for_path(d, "/openapi/v3/apis/nope/v1") is None
