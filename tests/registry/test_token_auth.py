"""Bearer-token auth as Docker Hub and GHCR do it, against distribution 2.8 in `auth: token` mode
trusting a local token service: the challenge is answered at the realm it names, the login goes
to that realm only, the token to the registry only, and a token is reused for its scope."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.registry.front import Front
from tests.registry.server import Registry
from tests.registry.token_server import TokenServer
from updater.cli import main
from updater.registry.client import RegistryClient
from updater.registry.credentials import Credentials, load_credentials
from updater.registry.errors import RegistryAuthFailed
from updater.registry.http import RegistryHttp
from updater.registry.names import repository_for
from updater.secrets import mask


@pytest.fixture(scope="module")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    root = tmp_path_factory.mktemp("token-registry")
    service = TokenServer(root, user="watcher", password="t0ken-login-pw")
    with service.running(), Registry(root, user="watcher", password="t0ken-login-pw", token_service=service) as server:
        yield server


def test_bearer_challenge_token_reused_and_credentials_confined(token_registry: Registry, repo_name: str) -> None:
    digest = token_registry.push(repo_name, "1.0.0")
    token_registry.tag(repo_name, "1.0.0", "1.1.0")
    service = token_registry.token_service
    assert service is not None
    with Front(token_registry.url).running() as front:
        creds = load_credentials({"DOCKER_AUTH_CONFIG": token_registry.auth_config().replace(token_registry.host, front.host)})
        http = RegistryHttp(creds)
        client = RegistryClient(http)
        repo = repository_for(f"{front.host}/{repo_name}", insecure=frozenset({front.host}))
        issued_before = len(service.requests)
        assert sorted(client.tags(repo)) == ["1.0.0", "1.1.0"]
        assert http.calls == 3  # 401 with the challenge, the token, the list with the token
        assert client.digest(repo, "1.1.0") == digest
        assert http.calls == 4  # the token is reused for the same scope
    # the registry saw no login, only the token; the token service saw the login
    assert front.auth_schemes == [None, "Bearer", "Bearer"]
    [(path, authorization)] = service.requests[issued_before:]
    assert path.startswith("/token?") and "service=updater-tests" in path and f"repository%3A{repo_name.replace('/', '%2F')}%3Apull" in path
    assert authorization == "Basic " + base64.b64encode(b"watcher:t0ken-login-pw").decode()
    # the token was registered for masking the moment it arrived
    token = next(iter(http._tokens.values()))[0]
    assert mask(f"Bearer {token}") == "Bearer ***"


def test_anonymous_is_refused_by_the_token_service(token_registry: Registry, repo_name: str) -> None:
    token_registry.push(repo_name, "1.0.0")
    repo = repository_for(f"{token_registry.host}/{repo_name}", insecure=frozenset({token_registry.host}))
    with pytest.raises(RegistryAuthFailed, match=r"the token service 127\.0\.0\.1:\d+ refused anonymous access"):
        RegistryClient(RegistryHttp(Credentials())).tags(repo)


def test_watch_through_token_auth(token_registry: Registry, repo_name: str, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    image = f"{token_registry.host}/{repo_name}"
    token_registry.push(repo_name, "1.4.0")
    token_registry.tag(repo_name, "1.4.0", "1.4.1", "1.5.0")
    (tmp_path / "deploy.yaml").write_text(f"image: {image}:1.4.0  # updater:image={image}\n")
    (tmp_path / ".updater.yml").write_text(f"apps:\n  api:\n    image: {image}\n    watch: {{policy: {{semver: '~1.4'}}}}\n"
                                           "    environments: {prod: {}}\n")
    monkeypatch.setenv("DOCKER_AUTH_CONFIG", token_registry.auth_config())
    assert main(["watch", "--dir", str(tmp_path), "--insecure-registry", token_registry.host]) == 0
    assert (tmp_path / "deploy.yaml").read_text() == f"image: {image}:1.4.1  # updater:image={image}\n"
