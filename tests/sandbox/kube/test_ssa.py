"""Server-side apply and managedFields on literal dicts (no server)."""

from __future__ import annotations

import pytest

from updater_sandbox.kube.fieldsets import from_fields_v1
from updater_sandbox.kube.ssa import ApplyConflict, apply, merge_config, read_managed, record_update

T0, T1 = "2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z"


def cm(data: dict, labels: dict | None = None) -> dict:
    meta: dict = {"name": "c", "namespace": "default"}
    if labels is not None:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


def owners(obj: dict) -> dict[str, set]:
    return {e.manager: set(e.fields) for e in read_managed(obj)}


def run(live, config, manager="a", **kw):
    return apply(live, config, manager=manager, api_version="v1", now=kw.pop("now", T0), **kw)


def test_create_records_the_applied_fields_only() -> None:
    obj = run(None, cm({"x": "1"}, {"app": "web"}))
    assert obj["data"] == {"x": "1"} and obj["metadata"]["labels"] == {"app": "web"}
    [entry] = obj["metadata"]["managedFields"]
    assert entry["manager"] == "a" and entry["operation"] == "Apply" and entry["time"] == T0
    assert entry["fieldsV1"] == {"f:data": {"f:x": {}}, "f:metadata": {"f:labels": {"f:app": {}}}}


def test_fields_dropped_from_config_are_removed_when_owned_alone() -> None:
    live = run(None, cm({"x": "1", "y": "2"}, {"app": "web", "tier": "front"}))
    after = run(live, cm({"x": "1"}, {"app": "web"}), now=T1)
    assert after["data"] == {"x": "1"} and after["metadata"]["labels"] == {"app": "web"}
    assert after["metadata"]["managedFields"][0]["time"] == T1


def test_fields_dropped_but_co_owned_stay() -> None:
    live = run(None, cm({"x": "1", "y": "2"}))
    live = run(live, cm({"y": "2"}), manager="b")  # same value: shared, no conflict
    after = run(live, cm({"x": "1"}))
    assert after["data"] == {"x": "1", "y": "2"}
    assert owners(after) == {"a": {("f:data", "f:x")}, "b": {("f:data", "f:y")}}


def test_different_value_on_a_field_of_another_manager_is_a_conflict() -> None:
    live = run(None, cm({"x": "1"}))
    with pytest.raises(ApplyConflict) as caught:
        run(live, cm({"x": "2"}), manager="b")
    [conflict] = caught.value.conflicts
    assert conflict.manager == "a" and conflict.path == ("f:data", "f:x")
    assert str(caught.value) == 'Apply failed with 1 conflict: conflict with "a" using v1: .data.x'


def test_force_takes_ownership_away() -> None:
    live = run(None, cm({"x": "1", "y": "1"}))
    after = run(live, cm({"x": "2"}), manager="b", force=True)
    assert after["data"] == {"x": "2", "y": "1"}
    assert owners(after) == {"a": {("f:data", "f:y")}, "b": {("f:data", "f:x")}}


def test_no_op_apply_keeps_the_object_identical() -> None:
    live = run(None, cm({"x": "1"}))
    assert run(live, cm({"x": "1"}), now=T1) == live


def test_containers_merge_by_name_and_lists_of_scalars_are_atomic() -> None:
    def deploy(containers: list) -> dict:
        return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                "spec": {"template": {"spec": {"containers": containers}}}}

    live = run(None, deploy([{"name": "app", "image": "a:1", "args": ["--x"]}]))
    live = run(live, deploy([{"name": "sidecar", "image": "s:1"}]), manager="b")
    after = run(live, deploy([{"name": "app", "image": "a:2", "args": ["--y"]}]))
    containers = after["spec"]["template"]["spec"]["containers"]
    assert containers == [{"name": "app", "image": "a:2", "args": ["--y"]}, {"name": "sidecar", "image": "s:1"}]
    key = ("f:spec", "f:template", "f:spec", "f:containers", 'k:{"name":"app"}')
    assert owners(after)["a"] == {key, key + ("f:name",), key + ("f:image",), key + ("f:args",)}


def test_dropping_a_list_item_removes_it() -> None:
    def pod(names: list[str]) -> dict:
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                "spec": {"containers": [{"name": n, "image": "i"} for n in names]}}

    live = run(None, pod(["a", "b"]))
    assert [c["name"] for c in run(live, pod(["a"]))["spec"]["containers"]] == ["a"]


def test_status_is_ignored_on_the_main_resource_and_applied_on_the_subresource() -> None:
    config = {**cm({"x": "1"}), "status": {"phase": "Ready"}}
    created = run(None, config)
    assert "status" not in created
    with_status = run(created, {**config, "data": {}}, manager="ctl", subresource="status")
    assert with_status["status"] == {"phase": "Ready"} and with_status["data"] == {"x": "1"}
    entry = next(e for e in with_status["metadata"]["managedFields"] if e["manager"] == "ctl")
    assert entry["subresource"] == "status" and entry["fieldsV1"] == {"f:status": {"f:phase": {}}}


def test_update_credits_changed_fields_and_takes_them_from_appliers() -> None:
    live = run(None, cm({"x": "1", "y": "1"}))
    edited = {**live, "data": {"x": "9", "y": "1"}}
    after = record_update(live, edited, manager="kubectl-edit", api_version="v1", now=T1)
    assert owners(after) == {"a": {("f:data", "f:y")}, "kubectl-edit": {("f:data", "f:x")}}
    [entry] = [e for e in after["metadata"]["managedFields"] if e["manager"] == "kubectl-edit"]
    assert entry["operation"] == "Update"
    with pytest.raises(ApplyConflict):  # the applier now conflicts with the editor
        run(after, cm({"x": "1", "y": "1"}))


def test_set_lists_union_and_fields_v1_round_trip() -> None:
    live = run(None, {**cm({}), "metadata": {"name": "c", "finalizers": ["a.io/x"]}})
    after = run(live, {**cm({}), "metadata": {"name": "c", "finalizers": ["b.io/y"]}}, manager="b")
    assert after["metadata"]["finalizers"] == ["a.io/x", "b.io/y"]
    entry = next(e for e in after["metadata"]["managedFields"] if e["manager"] == "b")
    assert entry["fieldsV1"]["f:metadata"]["f:finalizers"] == {".": {}, 'v:"b.io/y"': {}}
    assert from_fields_v1(entry["fieldsV1"]) == owners(after)["b"]


def test_merge_config_null_removes_and_service_ports_key_on_port_and_protocol() -> None:
    base = {"spec": {"ports": [{"port": 80, "protocol": "TCP", "name": "http"}], "type": "ClusterIP"}}
    merged = merge_config(base, {"spec": {"ports": [{"port": 80, "targetPort": 8080}], "type": None}})
    assert merged == {"spec": {"ports": [{"port": 80, "protocol": "TCP", "name": "http", "targetPort": 8080}]}}
