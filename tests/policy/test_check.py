"""The shared policy rules: literal objects in, violations out."""

from __future__ import annotations

from typing import Any

import pytest

from updater.errors import BadInput
from updater.policy import Policy, check_image, check_object, policy_from_mapping


def deployment(image: str, *, namespace: str | None = "shop", **pod: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": "api"}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
            "spec": {"template": {"spec": {"containers": [{"name": "api", "image": image}], **pod}}}}


def rules(obj: dict[str, Any], policy: Policy, **kw: Any) -> list[str]:
    return [v.rule for v in check_object(obj, policy, **kw)]


def test_an_empty_policy_allows_everything() -> None:
    obj = deployment("nginx", hostNetwork=True, volumes=[{"name": "root", "hostPath": {"path": "/"}}])
    assert check_object(obj, Policy()) == []


def test_allowed_registries_by_prefix_with_docker_hub_normalised() -> None:
    policy = policy_from_mapping({"allowed-registries": ["ghcr.io/acme", "docker.io/library"]}, source="p")
    assert rules(deployment("ghcr.io/acme/api:1.4.2"), policy) == []
    assert rules(deployment("nginx:1.27"), policy) == []  # docker.io/library/nginx
    assert rules(deployment("ghcr.io/acmeevil/api:1"), policy) == ["allowed-registries"]  # not a prefix match
    (violation,) = check_object(deployment("quay.io/x/y:1"), policy)
    assert str(violation) == ("Deployment shop/api, container api: image quay.io/x/y:1 is not from an allowed registry "
                              "(docker.io/library, ghcr.io/acme) (policy rule allowed-registries)")


def test_registry_rules_per_namespace() -> None:
    policy = policy_from_mapping({"allowed_registries": [{"registries": ["ghcr.io/acme"], "namespaces": ["prod-*"]},
                                                         "quay.io", "ghcr.io"]}, source="p")
    assert rules(deployment("quay.io/x/y:1", namespace="dev"), policy) == []
    assert rules(deployment("ghcr.io/other/y:1", namespace="prod-eu"), policy) == ["allowed-registries"]
    assert rules(deployment("ghcr.io/acme/y:1", namespace="prod-eu"), policy) == []
    assert rules(deployment("quay.io/x/y:1", namespace="prod-eu"), policy) == ["allowed-registries"]
    # the target namespace counts when the object leaves it out
    assert rules(deployment("quay.io/x/y:1", namespace=None), policy, default_namespace="prod-us") == [
        "allowed-registries"]


@pytest.mark.parametrize(("image", "broken"), [
    ("ghcr.io/acme/api:latest", True), ("ghcr.io/acme/api", True), ("ghcr.io/acme/api:main", True),
    ("ghcr.io/acme/api:1.4.2", False), ("ghcr.io/acme/api:latest@sha256:" + "a" * 64, False),
])
def test_mutable_tags(image: str, broken: bool) -> None:
    policy = policy_from_mapping({"forbid-mutable-tags": True, "mutable-tags": ["latest", "main"]}, source="p")
    assert rules(deployment(image), policy) == (["no-mutable-tags"] if broken else [])


def test_digest_required_in_chosen_namespaces_and_exemptions_by_image() -> None:
    policy = policy_from_mapping({"digest-required-in": ["production"],
                                  "exemptions": [{"rule": "digest-required", "images": ["docker.io/library/*"]}]},
                                 source="p")
    assert rules(deployment("ghcr.io/acme/api:1", namespace="production"), policy) == ["digest-required"]
    assert rules(deployment("ghcr.io/acme/api:1", namespace="staging"), policy) == []
    assert rules(deployment("busybox:1.36", namespace="production"), policy) == []
    assert rules(deployment("ghcr.io/acme/api:1@sha256:" + "b" * 64, namespace="production"), policy) == []


def test_pod_security_basics_and_object_exemptions() -> None:
    policy = policy_from_mapping({"forbid-privileged": True, "forbid-host-path": True, "forbid-host-network": True,
                                  "exemptions": [{"rule": "no-host-path", "objects": ["kube-system/DaemonSet/*"]}]},
                                 source="p")
    obj = deployment("ghcr.io/acme/api:1", hostNetwork=True, volumes=[{"name": "logs", "hostPath": {"path": "/var/log"}}])
    obj["spec"]["template"]["spec"]["containers"][0]["securityContext"] = {"privileged": True}
    assert sorted(rules(obj, policy)) == ["no-host-network", "no-host-path", "no-privileged"]
    agent = {"kind": "DaemonSet", "metadata": {"name": "logs", "namespace": "kube-system"},
             "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x:1"}],
                                            "volumes": [{"name": "logs", "hostPath": {"path": "/var/log"}}]}}}}
    assert rules(agent, policy) == []


def test_pods_cronjobs_and_custom_kinds_with_templates_are_checked() -> None:
    policy = Policy(forbid_mutable_tags=True)
    pod = {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"initContainers": [{"name": "i", "image": "x:latest"}]}}
    cron = {"kind": "CronJob", "metadata": {"name": "c"},
            "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "y"}]}}}}}}
    rollout = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "r"},
               "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "z:latest"}]}}}}
    config = {"kind": "ConfigMap", "metadata": {"name": "m"}, "data": {"image": "x:latest"}}
    assert [rules(o, policy) for o in (pod, cron, rollout, config)] == [
        ["no-mutable-tags"], ["no-mutable-tags"], ["no-mutable-tags"], []]


def test_tag_patterns_and_invalid_references() -> None:
    policy = Policy(tag_patterns=("v*",))
    assert [v.rule for v in check_image("ghcr.io/acme/api:1.0", policy)] == ["tag-pattern"]
    assert check_image("ghcr.io/acme/api:v1.0", policy) == []
    assert [v.rule for v in check_image("Not A Ref", Policy(forbid_mutable_tags=True))] == ["allowed-registries"]


@pytest.mark.parametrize(("data", "message"), [
    ({"forbid-latest": True}, "p: policy: unknown key 'forbid-latest'"),
    ({"forbid-privileged": "yes"}, "p: policy.forbid-privileged: expected true or false, got 'yes'"),
    ({"allowed-registries": "ghcr.io"}, "p: policy.allowed-registries: expected a list, got str"),
    ({"exemptions": [{"rule": "no-such-rule", "objects": ["*"]}]}, "p: policy.exemptions[0]: expected `rule:`"),
    ({"exemptions": [{"rule": "no-host-path"}]}, "p: policy.exemptions[0]: an exemption names"),
    ([], "p: policy: expected a mapping, got list"),
])
def test_bad_policies_are_one_line_errors_naming_the_key(data: object, message: str) -> None:
    with pytest.raises(BadInput) as caught:
        policy_from_mapping(data, source="p")
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)
