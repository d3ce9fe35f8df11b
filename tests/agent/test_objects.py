"""Object identity, apply/prune order and the agent's marks, on literal dicts."""

from __future__ import annotations

from updater.agent.objects import (
    APP_LABEL, HASH_ANNOTATION, ObjectKey, apply_order, desired_hash, is_kubernetes_object, key_of, mark, prune_order,
)


def obj(api: str, kind: str, name: str, ns: str | None = None) -> dict:
    meta = {"name": name, **({"namespace": ns} if ns else {})}
    return {"apiVersion": api, "kind": kind, "metadata": meta}


def test_namespaces_and_crds_come_before_what_lives_in_them() -> None:
    objects = [
        obj("stable.example.com/v1", "CronTab", "tab", "team"),
        obj("apps/v1", "Deployment", "api", "team"),
        obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", "crontabs.stable.example.com"),
        obj("v1", "Service", "api", "team"),
        obj("v1", "ConfigMap", "cfg", "team"),
        obj("v1", "Namespace", "team"),
    ]
    kinds = [o["kind"] for o in apply_order(objects)]
    assert kinds == ["Namespace", "ConfigMap", "CustomResourceDefinition", "Service", "Deployment", "CronTab"]


def test_prune_order_is_the_reverse_of_apply_order() -> None:
    keys = [key_of(obj("v1", "Namespace", "team")), key_of(obj("apps/v1", "Deployment", "api", "team")),
            key_of(obj("v1", "ConfigMap", "cfg", "team"))]
    assert [k.kind for k in prune_order(keys)] == ["Deployment", "ConfigMap", "Namespace"]


def test_identity_ignores_the_version_and_round_trips() -> None:
    a = key_of(obj("apps/v1", "Deployment", "api", "team"))
    b = key_of(obj("apps/v1beta2", "Deployment", "api", "team"))
    assert a == b == ObjectKey("apps", "Deployment", "team", "api")
    assert ObjectKey.decode(a.encode()) == a
    assert str(a) == "Deployment.apps team/api"
    assert str(key_of(obj("v1", "Namespace", "team"))) == "Namespace team"


def test_only_mappings_with_api_version_kind_and_name_are_objects() -> None:
    assert is_kubernetes_object(obj("v1", "ConfigMap", "x"))
    assert not is_kubernetes_object({"image": {"repository": "acme/api"}})  # Helm values
    assert not is_kubernetes_object({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}})
    assert not is_kubernetes_object(["a", "b"])


def test_mark_adds_label_and_hash_of_the_manifest_without_touching_the_input() -> None:
    manifest = {**obj("v1", "ConfigMap", "cfg", "team"), "data": {"a": "1"}}
    manifest["metadata"]["labels"] = {"tier": "web"}
    marked = mark(manifest, app="shop")
    assert marked["metadata"]["labels"] == {"tier": "web", APP_LABEL: "shop"}
    assert marked["metadata"]["annotations"][HASH_ANNOTATION] == desired_hash(manifest)
    assert "annotations" not in manifest["metadata"] and manifest["metadata"]["labels"] == {"tier": "web"}
    changed = {**manifest, "data": {"a": "2"}}
    assert desired_hash(changed) != desired_hash(manifest)
    assert desired_hash(dict(reversed(list(manifest.items())))) == desired_hash(manifest)
