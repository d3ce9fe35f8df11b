"""The registry client against a real registry (distribution 2.8, htpasswd): tags, digests,
build times, auth failures, a registry that is down; and through the paging front: `Link`
paging over 100+ tags, 429 waits, a link to another host."""

from __future__ import annotations

import base64
import email.utils
import time

import pytest

from tests.registry.front import Front
from tests.registry.server import Registry
from updater.registry.client import ClientSettings, RegistryClient
from updater.registry.credentials import Credentials, load_credentials
from updater.registry.errors import (
    RegistryAuthFailed,
    RegistryNotFound,
    RegistryRateLimited,
    RegistryResponseInvalid,
    RegistryUnavailable,
)
from updater.registry.http import HttpSettings, RegistryHttp
from updater.registry.names import repository_for


def client_for(registry: Registry, *, credentials: Credentials | None = None, page_size: int = 1000,
               settings: HttpSettings = HttpSettings(wait=0.05)) -> RegistryClient:
    creds = credentials if credentials is not None else load_credentials({"DOCKER_AUTH_CONFIG": registry.auth_config()})
    return RegistryClient(RegistryHttp(creds, settings), ClientSettings(page_size=page_size))


def test_tags_digest_and_build_time(registry: Registry, repo_name: str) -> None:
    first = registry.push(repo_name, "1.4.0", created="2026-03-01T10:00:00.123456789Z")
    registry.tag(repo_name, "1.4.0", "1.4.1", "latest")
    client = client_for(registry)
    repo = repository_for(f"{registry.host}/{repo_name}", insecure=frozenset({registry.host}))
    assert sorted(client.tags(repo)) == ["1.4.0", "1.4.1", "latest"]
    assert client.digest(repo, "latest") == first
    manifest = client.manifest(repo, first)
    assert manifest.digest == first and manifest.media_type == "application/vnd.oci.image.manifest.v1+json"
    when = client.created(repo, "1.4.1")
    assert when is not None and when.isoformat() == "2026-03-01T10:00:00.123456+00:00"
    # the login is offered up front once the registry asked for Basic: one request per call after the first
    calls = client.http.calls
    client.digest(repo, "1.4.0")
    assert client.http.calls == calls + 1


def test_a_pushed_tag_moves_its_digest(registry: Registry, repo_name: str) -> None:
    old = registry.push(repo_name, "stable")
    client = client_for(registry)
    repo = repository_for(f"{registry.host}/{repo_name}", insecure=frozenset({registry.host}))
    assert client.digest(repo, "stable") == old
    new = registry.push(repo_name, "stable")
    assert new != old and client.digest(repo, "stable") == new


def test_no_login_wrong_login_and_missing_repository(registry: Registry, repo_name: str) -> None:
    registry.push(repo_name, "1.0.0")
    repo = repository_for(f"{registry.host}/{repo_name}", insecure=frozenset({registry.host}))
    with pytest.raises(RegistryAuthFailed, match=r"needs a login .* none was found for 127\.0\.0\.1"):
        client_for(registry, credentials=Credentials()).tags(repo)
    wrong = load_credentials({"DOCKER_AUTH_CONFIG": registry.auth_config().replace(
        base64.b64encode(f"{registry.user}:{registry.password}".encode()).decode(),
        base64.b64encode(f"{registry.user}:nope".encode()).decode())})
    with pytest.raises(RegistryAuthFailed, match="refused the login .* from DOCKER_AUTH_CONFIG") as raised:
        client_for(registry, credentials=wrong).tags(repo)
    assert "nope" not in str(raised.value)
    with pytest.raises(RegistryNotFound, match="not found"):
        client_for(registry).tags(repository_for(f"{registry.host}/{repo_name}-missing", insecure=frozenset({registry.host})))


def test_registry_down_is_a_named_error_within_seconds(registry: Registry) -> None:
    from tests.registry.server import free_port

    host = f"127.0.0.1:{free_port()}"  # nothing listens there
    repo = repository_for(f"{host}/acme/api", insecure=frozenset({host}))
    started = time.monotonic()
    with pytest.raises(RegistryUnavailable, match=r"cannot reach 127\.0\.0\.1:\d+ after 3 attempt"):
        client_for(registry).tags(repo)
    assert time.monotonic() - started < 5


def test_https_is_the_default(registry: Registry) -> None:
    # without --insecure-registry the client speaks TLS, which a plain-http registry cannot answer
    repo = repository_for(f"{registry.host}/acme/api")
    assert repo.base_url.startswith("https://")
    with pytest.raises(RegistryUnavailable):
        client_for(registry).tags(repo)


def test_paging_follows_link_over_120_tags(registry: Registry, repo_name: str) -> None:
    registry.push(repo_name, "1.0.0")
    registry.tag(repo_name, "1.0.0", *[f"1.0.{n}" for n in range(1, 121)])
    with Front(registry.url).running() as front:
        repo = repository_for(f"{front.host}/{repo_name}", insecure=frozenset({front.host}))
        client = client_for(registry, credentials=load_credentials({"DOCKER_AUTH_CONFIG": registry.auth_config().replace(
            registry.host, front.host)}), page_size=50)
        tags = client.tags(repo)
    assert len(tags) == 121 and len(set(tags)) == 121 and "1.0.120" in tags
    pages = [p for p in front.paths if "/tags/list" in p]
    # the first page is asked without a login (401), then three pages of 50, 50 and 21
    ordered = sorted(tags)  # the spec pages in lexical order
    assert pages[1:] == [f"/v2/{repo_name}/tags/list?n=50", f"/v2/{repo_name}/tags/list?n=50&last={ordered[49]}",
                         f"/v2/{repo_name}/tags/list?n=50&last={ordered[99]}"]


def test_a_page_link_to_another_host_is_refused(registry: Registry, repo_name: str) -> None:
    registry.push(repo_name, "1.0.0")
    registry.tag(repo_name, "1.0.0", "1.0.1", "1.0.2")
    with Front(registry.url).running() as front:
        front.foreign_link = True
        repo = repository_for(f"{front.host}/{repo_name}", insecure=frozenset({front.host}))
        creds = load_credentials({"DOCKER_AUTH_CONFIG": registry.auth_config().replace(registry.host, front.host)})
        with pytest.raises(RegistryResponseInvalid, match="next tag page is on another host"):
            client_for(registry, credentials=creds, page_size=2).tags(repo)


def test_429_waits_retry_after_then_gives_up(registry: Registry, repo_name: str) -> None:
    registry.push(repo_name, "1.0.0")
    with Front(registry.url).running() as front:
        repo = repository_for(f"{front.host}/{repo_name}", insecure=frozenset({front.host}))
        creds = load_credentials({"DOCKER_AUTH_CONFIG": registry.auth_config().replace(registry.host, front.host)})
        waits: list[float] = []
        http = RegistryHttp(creds, HttpSettings(wait=0.05), sleep=waits.append)
        front.rate_limited, front.retry_after = 2, "3"
        assert RegistryClient(http).tags(repo) == ("1.0.0",)
        assert waits == [3.0, 3.0]
        front.rate_limited = 1
        front.retry_after = email.utils.formatdate(time.time() + 2, usegmt=True)  # an HTTP date
        assert RegistryClient(RegistryHttp(creds, HttpSettings(wait=0.05), sleep=waits.append)).tags(repo) == ("1.0.0",)
        assert len(waits) == 3 and 0 < waits.pop() <= 2.0
        front.rate_limited, front.retry_after = 1, "3600"  # longer than we wait: fail now
        with pytest.raises(RegistryRateLimited, match="Retry-After 3600s"):
            RegistryClient(RegistryHttp(creds, HttpSettings(wait=0.05), sleep=waits.append)).tags(repo)
        assert waits == [3.0, 3.0]


def front_client(registry: Registry, front: Front, **settings: int) -> RegistryClient:
    creds = load_credentials({"DOCKER_AUTH_CONFIG": registry.auth_config().replace(registry.host, front.host)})
    return RegistryClient(RegistryHttp(creds, HttpSettings(wait=0.05)), ClientSettings(**settings))


def test_bodies_over_their_limit_are_refused(registry: Registry, repo_name: str) -> None:
    registry.push(repo_name, "1.0.0")
    registry.tag(repo_name, "1.0.0", *[f"1.0.{n}" for n in range(1, 10)])
    repo = repository_for(f"{registry.host}/{repo_name}", insecure=frozenset({registry.host}))
    creds = load_credentials({"DOCKER_AUTH_CONFIG": registry.auth_config()})
    with pytest.raises(RegistryResponseInvalid, match="over the 64-byte limit"):
        RegistryClient(RegistryHttp(creds), ClientSettings(page_limit=64)).tags(repo)
    with pytest.raises(RegistryResponseInvalid, match="over the 100-byte limit"):
        RegistryClient(RegistryHttp(creds), ClientSettings(manifest_limit=100)).manifest(repo, "1.0.0")


def test_a_manifest_not_matching_its_digest_is_refused(registry: Registry, repo_name: str) -> None:
    digest = registry.push(repo_name, "1.0.0")
    with Front(registry.url).running() as front:
        front.corrupt_manifests = True
        repo = repository_for(f"{front.host}/{repo_name}", insecure=frozenset({front.host}))
        client = front_client(registry, front)
        for reference in ("1.0.0", digest):  # the digest claimed in the header, or the one asked for
            with pytest.raises(RegistryResponseInvalid, match="content does not match its digest"):
                client.manifest(repo, reference)


def test_a_redirect_to_another_host_is_followed_without_the_login(registry: Registry, repo_name: str) -> None:
    registry.push(repo_name, "1.0.0", created="2026-05-05T05:05:05Z")
    with Front(registry.url).running() as storage, Front(registry.url).running() as front:
        storage.upstream_login = (registry.user, registry.password)  # a presigned URL needs no login of ours
        front.redirect_blobs = f"http://localhost:{storage.host.rsplit(':', 1)[1]}"  # another host name
        repo = repository_for(f"{front.host}/{repo_name}", insecure=frozenset({front.host}))
        when = front_client(registry, front).created(repo, "1.0.0")
    assert when is not None and when.isoformat() == "2026-05-05T05:05:05+00:00"
    assert storage.paths and storage.auth_schemes == [None]
    assert "Basic" in front.auth_schemes  # the registry itself did get the login


def test_5xx_is_retried_a_bounded_number_of_times(registry: Registry, repo_name: str) -> None:
    registry.push(repo_name, "1.0.0")
    with Front(registry.url).running() as front:
        repo = repository_for(f"{front.host}/{repo_name}", insecure=frozenset({front.host}))
        waits: list[float] = []
        creds = load_credentials({"DOCKER_AUTH_CONFIG": registry.auth_config().replace(registry.host, front.host)})
        front.unavailable = 2  # a blip: two 503s, then the answer
        assert RegistryClient(RegistryHttp(creds, HttpSettings(wait=0.5), sleep=waits.append)).tags(repo) == ("1.0.0",)
        assert waits == [0.5, 1.0]
        front.unavailable = 3  # an outage: the third 503 is the last try
        with pytest.raises(RegistryUnavailable, match="answered HTTP 503 3 time"):
            RegistryClient(RegistryHttp(creds, HttpSettings(wait=0.5), sleep=waits.append)).tags(repo)
        assert front.unavailable == 0 and waits == [0.5, 1.0, 0.5, 1.0]
