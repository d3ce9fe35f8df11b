"""URL paths of the Kubernetes API, parsed into what they address. Pure.

`/api/v1/namespaces/ns/configmaps/x`, `/apis/apps/v1/deployments` (all namespaces),
`/api/v1/namespaces/ns` (the Namespace itself), `/apis/apps/v1/namespaces/ns/deployments/x/status`...
Discovery paths come back as `DiscoveryPath`; anything else as None (404).
"""

from __future__ import annotations

from dataclasses import dataclass

from updater_sandbox.kube.discovery import Discovery, ResourceType


@dataclass(frozen=True)
class Target:
    rt: ResourceType
    namespace: str  # "" for cluster-scoped resources and all-namespace lists
    name: str  # "" for the collection
    subresource: str = ""


@dataclass(frozen=True)
class DiscoveryPath:
    group: str | None  # None: the list of groups (`/api` or `/apis`)
    version: str | None
    core: bool


def parse(path: str, discovery: Discovery) -> Target | DiscoveryPath | None:
    segments = [s for s in path.split("?")[0].split("/") if s]
    if not segments or segments[0] not in ("api", "apis"):
        return None
    core = segments[0] == "api"
    if core:
        group, rest = "", segments[1:]
    elif len(segments) == 1:
        return DiscoveryPath(None, None, core=False)
    else:
        group, rest = segments[1], segments[2:]
    if not rest:
        return DiscoveryPath(None if core else group, None, core)
    version, rest = rest[0], rest[1:]
    if not rest:
        return DiscoveryPath(group, version, core)
    namespace = ""
    if rest[0] == "namespaces" and len(rest) >= 3:
        candidate = discovery.find(group, version, rest[2])
        if candidate is not None and candidate.namespaced:
            namespace, rest = rest[1], rest[2:]
    rt = discovery.find(group, version, rest[0])
    if rt is None or len(rest) > 3:
        return None
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    if subresource and subresource not in rt.subresources:
        return None
    return Target(rt, namespace, name, subresource)
