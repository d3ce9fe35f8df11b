"""Diff normalisation and the cheap drift check, on literal objects."""

from __future__ import annotations

from updater.agent.diff import covers, object_diff, strip_server_fields
from updater.agent.objects import HASH_ANNOTATION, ObjectKey

KEY = ObjectKey("apps", "Deployment", "team", "api")


def deployment(image: str, **extra_meta: object) -> dict:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "api", "namespace": "team", **extra_meta},
        "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "api", "image": image}]}}},
    }


def live(image: str) -> dict:
    obj = deployment(image, uid="u-1", resourceVersion="42", generation=3, creationTimestamp="2026-01-01T00:00:00Z",
                     managedFields=[{"manager": "updater"}],
                     annotations={HASH_ANNOTATION: "abc", "deployment.kubernetes.io/revision": "3"})
    obj["spec"]["template"]["spec"]["containers"][0].update(imagePullPolicy="IfNotPresent", ports=[])
    obj["spec"]["strategy"] = {"type": "RollingUpdate"}
    obj["status"] = {"replicas": 2}
    return obj


def test_server_fields_are_stripped() -> None:
    stripped = strip_server_fields(live("a:1"))
    assert "status" not in stripped
    assert stripped["metadata"] == {"name": "api", "namespace": "team"}


def test_no_diff_when_only_server_managed_fields_differ() -> None:
    merged = live("a:1")
    merged["metadata"].update(resourceVersion="43", annotations={HASH_ANNOTATION: "def"})
    assert object_diff(KEY, live("a:1"), merged) is None


def test_image_change_is_a_one_line_change_in_the_diff() -> None:
    found = object_diff(KEY, live("a:1"), live("a:2"))
    assert found is not None and found.action == "update"
    changed = [line for line in found.text.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changed == ["-      - image: a:1", "+      - image: a:2"]
    assert found.text.startswith("--- live/Deployment.apps/team/api\n+++ desired/Deployment.apps/team/api\n")


def test_create_and_delete_diffs() -> None:
    created = object_diff(KEY, None, deployment("a:1"))
    deleted = object_diff(KEY, live("a:1"), None)
    assert created is not None and created.action == "create" and "+kind: Deployment" in created.text
    assert deleted is not None and deleted.action == "delete" and "-kind: Deployment" in deleted.text


def test_covers_ignores_defaults_but_sees_our_fields_changed() -> None:
    assert covers(deployment("a:1"), live("a:1"))
    assert not covers(deployment("a:1"), live("a:2"))
    edited = live("a:1")
    edited["spec"]["replicas"] = 5
    assert not covers(deployment("a:1"), edited)


def test_covers_compares_lists_item_by_item() -> None:
    assert covers({"ports": [{"port": 80}]}, {"ports": [{"port": 80, "protocol": "TCP"}]})
    assert not covers({"ports": [{"port": 80}]}, {"ports": [{"port": 80}, {"port": 81}]})
    assert not covers({"flag": True}, {"flag": 1})
    assert covers({"gone": None}, {})
    assert not covers({"a": {"b": 1}}, {"a": "x"})


def test_secret_values_never_appear_in_a_diff() -> None:
    key = ObjectKey("", "Secret", "team", "creds")
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds", "namespace": "team"}}
    live = {**secret, "data": {"user": "YWRtaW4=", "password": "b2xkLXBhc3N3b3Jk"}}
    merged = {**secret, "data": {"user": "YWRtaW4=", "password": "bmV3LXBhc3N3b3Jk"}}
    found = object_diff(key, live, merged)
    assert found is not None
    assert "b2xk" not in found.text and "bmV3" not in found.text and "YWRtaW4" not in found.text
    assert "-  password: '*** (before)'\n+  password: '*** (after)'\n" in found.text
    assert object_diff(key, live, live) is None
    created = object_diff(key, None, {**secret, "stringData": {"token": "plain-token-value"}})
    assert created is not None and "plain-token-value" not in created.text and "token: '*** (after)'" in created.text
