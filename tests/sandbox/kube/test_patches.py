"""Merge, strategic-merge and JSON patches on literal dicts."""

from __future__ import annotations

import pytest

from updater_sandbox.kube.patches import PatchError, json_patch, merge_patch, strategic_merge_patch

POD = {"spec": {"containers": [{"name": "app", "image": "a:1", "env": [{"name": "X", "value": "1"}]},
                               {"name": "side", "image": "s:1"}]},
       "metadata": {"labels": {"a": "1", "b": "2"}, "finalizers": ["x"]}}


def test_merge_patch_replaces_lists_and_null_deletes() -> None:
    patched = merge_patch(POD, {"metadata": {"labels": {"b": None, "c": "3"}},
                                "spec": {"containers": [{"name": "only"}]}})
    assert patched["metadata"]["labels"] == {"a": "1", "c": "3"}
    assert patched["spec"]["containers"] == [{"name": "only"}]
    assert POD["metadata"]["labels"] == {"a": "1", "b": "2"}  # input untouched


def test_strategic_merge_patches_containers_by_name() -> None:
    patched = strategic_merge_patch(POD, {"spec": {"containers": [{"name": "side", "image": "s:2"},
                                                                  {"name": "new", "image": "n:1"}]}})
    assert [(c["name"], c["image"]) for c in patched["spec"]["containers"]] == [
        ("app", "a:1"), ("side", "s:2"), ("new", "n:1")]
    assert patched["spec"]["containers"][0]["env"] == [{"name": "X", "value": "1"}]


def test_strategic_merge_directives() -> None:
    patched = strategic_merge_patch(POD, {
        "$setElementOrder/metadata": [],
        "metadata": {"$deleteFromPrimitiveList/finalizers": ["x"]},
        "spec": {"$setElementOrder/containers": [{"name": "side"}, {"name": "app"}],
                 "containers": [{"name": "app", "$patch": "delete"}, {"name": "side", "image": "s:3"}]},
    })
    assert patched["spec"]["containers"] == [{"name": "side", "image": "s:3"}]
    assert patched["metadata"]["finalizers"] == []
    replaced = strategic_merge_patch(POD, {"metadata": {"labels": {"$patch": "replace", "z": "9"}}})
    assert replaced["metadata"]["labels"] == {"z": "9"}


def test_strategic_merge_set_element_order_reorders() -> None:
    patched = strategic_merge_patch(POD, {"spec": {"$setElementOrder/containers": [{"name": "side"}, {"name": "app"}],
                                                   "containers": [{"name": "app", "image": "a:2"}]}})
    assert [c["name"] for c in patched["spec"]["containers"]] == ["side", "app"]


def test_json_patch_operations_and_failures() -> None:
    patched = json_patch(POD, [
        {"op": "replace", "path": "/spec/containers/0/image", "value": "a:9"},
        {"op": "add", "path": "/metadata/labels/c~1d", "value": "x"},
        {"op": "remove", "path": "/metadata/labels/a"},
        {"op": "add", "path": "/metadata/finalizers/-", "value": "y"},
        {"op": "test", "path": "/spec/containers/1/name", "value": "side"},
    ])
    assert patched["spec"]["containers"][0]["image"] == "a:9"
    assert patched["metadata"]["labels"] == {"b": "2", "c/d": "x"}
    assert patched["metadata"]["finalizers"] == ["x", "y"]
    with pytest.raises(PatchError):
        json_patch(POD, [{"op": "replace", "path": "/spec/missing", "value": 1}])
    with pytest.raises(PatchError):
        json_patch(POD, [{"op": "test", "path": "/metadata/labels/a", "value": "nope"}])
