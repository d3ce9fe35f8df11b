"""The OCI Distribution API v2 calls `updater watch` needs: list tags (paged), a tag's digest,
a manifest, and an image's build time from its config. One `RegistryHttp` carries the auth.

Checks on what the registry says: every manifest or blob fetched is hashed and compared with the
digest asked for (or the `Docker-Content-Digest` it claims); tag pages are bounded in size and
count, and a `Link` to another host is refused; digests must be well-formed sha256/sha512.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urljoin, urlsplit

from updater.registry.errors import RegistryResponseInvalid
from updater.registry.http import RegistryHttp
from updater.registry.names import Repository
from updater.refs import is_tag

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEXES = (OCI_INDEX, DOCKER_LIST)
ACCEPT = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))

MANIFEST_LIMIT = 4 << 20  # distribution's own cap on a manifest
CONFIG_LIMIT = 8 << 20  # image configs with long histories stay far below this
PAGE_LIMIT = 4 << 20  # 1000 tags of 128 characters are ~130 KB
_DIGEST = re.compile(r"(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})")
_LINK_NEXT = re.compile(r'<([^>]*)>\s*;[^,]*\brel="?next"?')


@dataclass(frozen=True)
class ClientSettings:
    page_size: int = 1000  # tags per page (`?n=`); registries cap it, and follow `Link` for the rest
    max_tags: int = 100_000  # a repository with more is a runaway CI; stop rather than page forever
    page_limit: int = PAGE_LIMIT
    manifest_limit: int = MANIFEST_LIMIT
    config_limit: int = CONFIG_LIMIT


@dataclass(frozen=True)
class Manifest:
    media_type: str
    digest: str
    data: dict[str, Any]


class RegistryClient:
    def __init__(self, http: RegistryHttp, settings: ClientSettings = ClientSettings()) -> None:
        self.http = http
        self.settings = settings

    def tags(self, repo: Repository) -> tuple[str, ...]:
        """Every tag of the repository, following `Link: <...>; rel="next"` pages."""
        url: str | None = f"{repo.base_url}/tags/list?n={self.settings.page_size}"
        tags: list[str] = []
        seen: set[str] = set()
        while url is not None:
            if url in seen:
                raise RegistryResponseInvalid(f"{repo}: tag pages link back to {urlsplit(url).path}?{urlsplit(url).query}")
            seen.add(url)
            reply = self.http.request(repo, url, limit=self.settings.page_limit, accept="application/json")
            tags += _page_tags(reply.body, repo)
            if len(tags) > self.settings.max_tags:
                raise RegistryResponseInvalid(f"{repo}: more than {self.settings.max_tags} tags; refusing to page on")
            url = _next_page(reply.headers.get("link"), reply.url, repo)
        return tuple(dict.fromkeys(tags))

    def digest(self, repo: Repository, tag: str) -> str:
        """The digest a tag points at now (a HEAD, which Docker Hub does not count as a pull)."""
        reply = self.http.request(repo, f"{repo.base_url}/manifests/{tag}", limit=0, method="HEAD", accept=ACCEPT)
        claimed = reply.headers.get("docker-content-digest")
        if claimed is None:  # allowed by the spec: fetch it and hash it ourselves
            return self.manifest(repo, tag).digest
        if not _DIGEST.fullmatch(claimed):
            raise RegistryResponseInvalid(f"{repo}:{tag}: the registry sent a malformed digest {claimed[:80]!r}")
        return claimed

    def manifest(self, repo: Repository, reference: str) -> Manifest:
        """The manifest or index at a tag or digest, its bytes checked against the digest."""
        reply = self.http.request(repo, f"{repo.base_url}/manifests/{reference}", limit=self.settings.manifest_limit, accept=ACCEPT)
        expected = reference if ":" in reference else reply.headers.get("docker-content-digest")  # tags hold no ':'
        digest = _checked(reply.body, expected, f"{repo}@{reference}")
        data = _json_object(reply.body, f"{repo}@{reference} manifest")
        media_type = str(data.get("mediaType") or reply.headers.get("content-type", "").split(";")[0])
        return Manifest(media_type, digest, data)

    def created(self, repo: Repository, tag: str) -> datetime | None:
        """When the image behind a tag was built (its config's `created`); for an index, the
        linux/amd64 image's (else the first one's). None when the config does not say."""
        manifest = self.manifest(repo, tag)
        if manifest.media_type in INDEXES:
            manifest = self.manifest(repo, _pick_platform(manifest, repo))
        config = manifest.data.get("config")
        if not isinstance(config, dict) or not isinstance(config.get("digest"), str):
            raise RegistryResponseInvalid(f"{repo}:{tag}: the manifest has no config descriptor")
        digest = config["digest"]
        if not _DIGEST.fullmatch(digest):
            raise RegistryResponseInvalid(f"{repo}:{tag}: malformed config digest")
        reply = self.http.request(repo, f"{repo.base_url}/blobs/{digest}", limit=self.settings.config_limit)
        _checked(reply.body, digest, f"{repo}:{tag} config")
        created = _json_object(reply.body, f"{repo}:{tag} config").get("created")
        return _parse_time(created) if isinstance(created, str) else None


def _page_tags(body: bytes, repo: Repository) -> list[str]:
    data = _json_object(body, f"{repo} tag list")
    tags = data.get("tags") or []  # distribution sends null for a repository without tags
    if not isinstance(tags, list):
        raise RegistryResponseInvalid(f"{repo}: the tag list's \"tags\" is not a list")
    return [tag for tag in tags if isinstance(tag, str) and is_tag(tag)]  # junk is not a candidate


def _next_page(link: str | None, current: str, repo: Repository) -> str | None:
    match = _LINK_NEXT.search(link or "")
    if match is None:
        return None
    url: str = urljoin(current, match[1])
    if urlsplit(url).netloc != urlsplit(current).netloc:
        raise RegistryResponseInvalid(f"{repo}: the next tag page is on another host ({urlsplit(url).netloc})")
    return url


def _checked(body: bytes, expected: str | None, what: str) -> str:
    """`body`'s digest; it must equal `expected` when one is known."""
    if expected is not None and not _DIGEST.fullmatch(expected):
        raise RegistryResponseInvalid(f"{what}: malformed digest {expected[:80]!r}")
    algorithm = expected.split(":", 1)[0] if expected else "sha256"
    actual = f"{algorithm}:{hashlib.new(algorithm, body).hexdigest()}"
    if expected is not None and actual != expected:
        raise RegistryResponseInvalid(f"{what}: content does not match its digest (got {actual}); not using it")
    return actual


def _json_object(body: bytes, what: str) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError as err:
        raise RegistryResponseInvalid(f"{what} is not JSON") from err
    if not isinstance(data, dict):
        raise RegistryResponseInvalid(f"{what} is not a JSON object")
    return data


def _pick_platform(index: Manifest, repo: Repository) -> str:
    entries = [m for m in index.data.get("manifests") or [] if isinstance(m, dict) and isinstance(m.get("digest"), str)]
    if not entries:
        raise RegistryResponseInvalid(f"{repo}@{index.digest}: the index lists no manifests")
    for entry in entries:
        platform = entry.get("platform") or {}
        if platform.get("os") == "linux" and platform.get("architecture") == "amd64":
            return str(entry["digest"])
    return str(entries[0]["digest"])


def _parse_time(text: str) -> datetime | None:
    # RFC 3339 with nanoseconds (Go's format): Python takes at most microseconds
    text = re.sub(r"(\.\d{6})\d+", r"\1", text.strip()).replace("Z", "+00:00")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)  # naive ones compare with aware ones
