"""Field sets and the FieldsV1 wire form, on literal dicts."""

from __future__ import annotations

from updater_sandbox.kube.fieldsets import (
    changed_paths, field_set, from_fields_v1, ownable, pathstr, remove_at, to_fields_v1, value_at,
)

POD_SPEC = {"containers": [{"name": "app", "image": "a:1", "ports": [{"containerPort": 80}], "args": ["-v"]}],
            "tolerations": [{"key": "x"}]}
APP = 'k:{"name":"app"}'
PORT = 'k:{"containerPort":80,"protocol":"TCP"}'


def test_members_of_maps_keyed_lists_and_atomic_lists() -> None:
    assert field_set({"spec": POD_SPEC}) == {
        ("f:spec", "f:containers", APP),
        ("f:spec", "f:containers", APP, "f:name"),
        ("f:spec", "f:containers", APP, "f:image"),
        ("f:spec", "f:containers", APP, "f:args"),
        ("f:spec", "f:containers", APP, "f:ports", PORT),
        ("f:spec", "f:containers", APP, "f:ports", PORT, "f:containerPort"),
        ("f:spec", "f:tolerations"),
    }


def test_fields_v1_round_trip_marks_items_with_a_dot() -> None:
    paths = field_set({"spec": POD_SPEC, "metadata": {"labels": {"a": "b"}, "annotations": {}}})
    wire = to_fields_v1(paths)
    assert wire["f:spec"]["f:containers"][APP]["."] == {}
    assert wire["f:metadata"] == {"f:labels": {"f:a": {}}, "f:annotations": {}}
    assert from_fields_v1(wire) == paths


def test_navigation_and_removal() -> None:
    obj = {"spec": {"containers": [dict(c) for c in POD_SPEC["containers"]]}, "metadata": {"labels": {"a": "b"}}}
    assert value_at(obj, ("f:spec", "f:containers", APP, "f:image")) == (True, "a:1")
    assert value_at(obj, ("f:spec", "f:containers", 'k:{"name":"nope"}')) == (False, None)
    remove_at(obj, ("f:metadata", "f:labels", "f:a"))
    assert obj == {"spec": obj["spec"]}  # the emptied labels and metadata maps went too
    remove_at(obj, ("f:spec", "f:containers", APP))
    assert obj == {}


def test_identity_fields_are_not_ownable_and_paths_print_like_the_server() -> None:
    assert ownable({"apiVersion": "v1", "kind": "X", "metadata": {"name": "n", "uid": "u", "labels": {"a": "b"}},
                    "data": {}}) == {"data": {}, "metadata": {"labels": {"a": "b"}}}
    assert pathstr(("f:spec", "f:containers", APP, "f:image")) == '.spec.containers[name="app"].image'


def test_changed_paths() -> None:
    old = {"data": {"a": "1", "b": "2"}}
    changed, removed = changed_paths(old, {"data": {"a": "9", "c": "3"}})
    assert changed == {("f:data", "f:a"), ("f:data", "f:c")} and removed == {("f:data", "f:b")}


def test_changed_paths_inside_lists_agree_with_full_field_sets() -> None:
    def spec(*containers: dict, finalizers: list[str]) -> dict:
        return {"metadata": {"finalizers": finalizers}, "spec": {"containers": list(containers), "args": ["a"]}}

    old = spec({"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}, finalizers=["x", "y"])
    new = spec({"name": "a", "image": "a:2"}, {"name": "c", "image": "c:1"}, finalizers=["y", "z"])
    new["spec"]["args"] = ["b"]
    changed, removed = changed_paths(old, new)
    c = ("f:spec", "f:containers")
    assert changed == {
        c + (APP.replace("app", "a"), "f:image"),
        c + ('k:{"name":"c"}',), c + ('k:{"name":"c"}', "f:name"), c + ('k:{"name":"c"}', "f:image"),
        ("f:metadata", "f:finalizers", 'v:"z"'),
        ("f:spec", "f:args"),
    }
    assert removed == {c + ('k:{"name":"b"}',), c + ('k:{"name":"b"}', "f:name"), c + ('k:{"name":"b"}', "f:image"),
                       ("f:metadata", "f:finalizers", 'v:"x"')}
    everything_new = field_set(new)
    assert changed <= everything_new and not removed & everything_new
