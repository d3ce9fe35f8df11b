"""Where an image name lives: the registry host to talk to, the repository path, http or https.

`nginx` → registry-1.docker.io, `library/nginx`; `ghcr.io/acme/api` → ghcr.io, `acme/api`;
`127.0.0.1:5000/acme/api` → 127.0.0.1:5000, `acme/api`. Plain http only for hosts the user named
insecure (`--insecure-registry`): a registry's own answer never downgrades us to http. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass

from updater.errors import BadInput
from updater.refs import DOCKER_HUB, InvalidReference, ImageRef, canonical_name

# Docker Hub's API host differs from the name people write.
DOCKER_HUB_API = "registry-1.docker.io"


@dataclass(frozen=True)
class Repository:
    name: str  # as written in .updater.yml, for messages and new references
    host: str  # the registry's API host[:port]
    path: str  # the repository inside it, e.g. acme/api
    scheme: str = "https"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}/v2/{self.path}"

    def __str__(self) -> str:
        return f"{self.host}/{self.path}"


def repository_for(name: str, *, insecure: frozenset[str] = frozenset()) -> Repository:
    """The repository an image name (no tag or digest) refers to; `BadInput` when it is not a name."""
    try:
        ref = ImageRef.parse_reference(name)
    except InvalidReference as err:
        raise BadInput(f"watch image {name!r}: {err}") from err
    if ref.tag or ref.digest:
        raise BadInput(f"watch image {name!r}: give the name only (no tag or digest); the policy picks the tag")
    domain, _, path = canonical_name(ref.name).partition("/")
    host = DOCKER_HUB_API if domain == DOCKER_HUB else domain
    scheme = "http" if host in insecure or domain in insecure else "https"
    return Repository(name, host, path, scheme)


def same_registry(host: str, other: str) -> bool:
    """Whether two auth-file keys / hosts name one registry (Docker Hub has several spellings)."""
    hub = {DOCKER_HUB, DOCKER_HUB_API, "index.docker.io"}
    return host == other or (host in hub and other in hub)
