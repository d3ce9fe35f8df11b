"""Desired state per commit: namespaces filled in or dropped by scope, CRD-declared kinds, marks reused."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gitrepos import write_tree
from updater.agent.client import Resource
from updater.agent.desired import DesiredCache
from updater.agent.objects import APP_LABEL
from updater.agent.render import RenderError

KNOWN = {("v1", "ConfigMap"): Resource("v1", "ConfigMap", "configmaps", True),
         ("v1", "Namespace"): Resource("v1", "Namespace", "namespaces", False),
         ("apiextensions.k8s.io/v1", "CustomResourceDefinition"):
             Resource("apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", False)}
CRD = ("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: tabs.x.io}\n"
       "spec: {group: x.io, scope: Namespaced, names: {kind: Tab, plural: tabs}, versions: []}\n")


def cache() -> DesiredCache:
    return DesiredCache(app="shop", path=".", default_namespace="team", resolve=lambda v, k: KNOWN.get((v, k)))


def test_scope_marks_and_crd_kinds(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
        "ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: team, namespace: oops}\n",
        "crd.yaml": CRD,
        "tab.yaml": "apiVersion: x.io/v1\nkind: Tab\nmetadata: {name: t}\n",
    })
    desired = cache().prepare("c1", tmp_path)
    by_kind = {o["kind"]: o for o in desired.objects}
    assert by_kind["ConfigMap"]["metadata"]["namespace"] == "team"
    assert "namespace" not in by_kind["Namespace"]["metadata"]
    assert by_kind["Tab"]["metadata"]["namespace"] == "team"  # scope from the CRD in the same render
    assert all(o["metadata"]["labels"][APP_LABEL] == "shop" for o in desired.objects)
    assert desired.kinds()[("", "ConfigMap")] == "v1"


def test_unknown_kind_without_a_crd_fails_the_render(tmp_path: Path) -> None:
    write_tree(tmp_path, {"x.yaml": "apiVersion: x.io/v1\nkind: Tab\nmetadata: {name: t}\n"})
    with pytest.raises(RenderError, match="no Tab in x.io/v1 and no CustomResourceDefinition"):
        cache().prepare("c1", tmp_path)


def test_same_commit_is_prepared_once_and_unchanged_objects_keep_their_marks(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
                          "b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n"})
    desired = cache()
    first = desired.prepare("c1", tmp_path)
    assert desired.prepare("c1", tmp_path) is first
    write_tree(tmp_path, {"b.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {x: '1'}\n"})
    second = desired.prepare("c2", tmp_path)
    assert second.objects[0] is first.objects[0] and second.objects[1] is not first.objects[1]
    assert second.objects[1]["data"] == {"x": "1"}
