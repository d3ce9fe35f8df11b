"""Check images and Kubernetes objects against a `Policy`. Pure: no I/O, no logging.

Pod specs are found where the workload kinds keep them (Pod, the `spec.template` of Deployment,
StatefulSet, DaemonSet, ReplicaSet, Job, ReplicationController and of custom kinds shaped like them,
CronJob's `spec.jobTemplate.spec.template`), so a custom resource that embeds a pod template is
checked the same way as a Deployment.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from updater.policy.model import (
    ALLOWED_REGISTRIES,
    DIGEST_REQUIRED,
    NO_HOST_NETWORK,
    NO_HOST_PATH,
    NO_MUTABLE_TAGS,
    NO_PRIVILEGED,
    TAG_PATTERN,
    Policy,
    RegistryRule,
    Violation,
    glob_match,
)
from updater.refs import ImageRef

_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


def check_image(image: str, policy: Policy, *, namespace: str | None = None, where: str = "") -> list[Violation]:
    """The rules about an image reference (registries, mutable tags, digests, tag patterns)."""
    subject = where or image
    ref = ImageRef.try_parse(image)
    if ref is None:
        return [Violation(ALLOWED_REGISTRIES, subject, f"image {image!r} is not a valid reference")]
    name = ref.canonical_name
    found: list[Violation] = []
    rules = _registry_rules(policy, namespace)
    if rules and not any(rule.allows(name) for rule in rules) and not policy.exempt(ALLOWED_REGISTRIES, image=name):
        allowed = sorted({entry for rule in rules for entry in rule.registries})
        found.append(Violation(ALLOWED_REGISTRIES, subject,
                               f"image {image} is not from an allowed registry ({', '.join(allowed)})"))
    mutable = ref.digest is None and (ref.tag is None or ref.tag in policy.mutable_tags)
    if policy.forbid_mutable_tags and mutable and not policy.exempt(NO_MUTABLE_TAGS, image=name):
        found.append(Violation(NO_MUTABLE_TAGS, subject,
                               f"image {image} names a mutable tag ({ref.tag or 'no tag: latest'}); pin a version"))
    needs_digest = namespace is not None and glob_match(namespace, policy.digest_required_in)
    if needs_digest and ref.digest is None and not policy.exempt(DIGEST_REQUIRED, image=name):
        found.append(Violation(DIGEST_REQUIRED, subject,
                               f"image {image} has no digest; namespace {namespace} requires @sha256:..."))
    if (policy.tag_patterns and ref.tag is not None and not glob_match(ref.tag, policy.tag_patterns)
            and not policy.exempt(TAG_PATTERN, image=name)):
        found.append(Violation(TAG_PATTERN, subject,
                               f"tag {ref.tag} matches none of {', '.join(policy.tag_patterns)}"))
    return found


def _registry_rules(policy: Policy, namespace: str | None) -> list[RegistryRule]:
    """The rules naming this namespace replace the global ones there (a namespace can be stricter)."""
    scoped = [rule for rule in policy.allowed_registries if rule.namespaces and rule.applies_to(namespace)]
    return scoped or [rule for rule in policy.allowed_registries if not rule.namespaces]


def check_object(obj: Mapping[str, Any], policy: Policy, *, default_namespace: str | None = None) -> list[Violation]:
    """Every rule against one rendered object: its images and its pod-security settings."""
    if policy.empty:
        return []
    kind = str(obj.get("kind") or "object")
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), Mapping) else {}
    assert isinstance(meta, Mapping)
    namespace = str(meta.get("namespace") or default_namespace or "") or None
    name = str(meta.get("name") or "?")
    subject = f"{namespace}/{kind}/{name}" if namespace else f"{kind}/{name}"
    label = f"{kind} {namespace + '/' if namespace else ''}{name}"
    found: list[Violation] = []
    for spec in pod_specs(obj):
        found += _pod_rules(spec, policy, subject=subject, label=label)
        for container in containers(spec):
            where = f"{label}, container {container.get('name', '?')}"
            image = container.get("image")
            if isinstance(image, str):
                found += [v for v in check_image(image, policy, namespace=namespace, where=where)
                          if not policy.exempt(v.rule, subject=subject)]
            security = container.get("securityContext")
            privileged = isinstance(security, Mapping) and security.get("privileged") is True
            if policy.forbid_privileged and privileged and not policy.exempt(NO_PRIVILEGED, subject=subject):
                found.append(Violation(NO_PRIVILEGED, where, "runs privileged (securityContext.privileged: true)"))
    return found


def _pod_rules(spec: Mapping[str, Any], policy: Policy, *, subject: str, label: str) -> list[Violation]:
    found: list[Violation] = []
    if policy.forbid_host_network and spec.get("hostNetwork") is True and not policy.exempt(NO_HOST_NETWORK, subject=subject):
        found.append(Violation(NO_HOST_NETWORK, label, "uses the node's network (hostNetwork: true)"))
    volumes = spec.get("volumes") if isinstance(spec.get("volumes"), list) else []
    assert isinstance(volumes, list)
    for volume in volumes:
        if (isinstance(volume, Mapping) and "hostPath" in volume and policy.forbid_host_path
                and not policy.exempt(NO_HOST_PATH, subject=subject)):
            path = volume["hostPath"].get("path", "?") if isinstance(volume["hostPath"], Mapping) else "?"
            found.append(Violation(NO_HOST_PATH, label, f"mounts the node's {path} (volume {volume.get('name', '?')})"))
    return found


def pod_specs(obj: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The pod specs an object carries (none for kinds that run nothing)."""
    spec = obj.get("spec")
    if not isinstance(spec, Mapping):
        return
    if obj.get("kind") == "Pod":
        yield spec
        return
    job = spec.get("jobTemplate")
    if isinstance(job, Mapping) and isinstance(job.get("spec"), Mapping):
        spec = job["spec"]
    template = spec.get("template")
    if isinstance(template, Mapping) and isinstance(template.get("spec"), Mapping):
        yield template["spec"]


def containers(spec: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for key in _CONTAINER_LISTS:
        items = spec.get(key)
        if isinstance(items, list):
            yield from (item for item in items if isinstance(item, Mapping))
