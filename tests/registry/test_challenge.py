"""WWW-Authenticate parsing on the headers registries really send."""

from __future__ import annotations

from updater.registry.challenge import parse_challenge


def test_bearer_as_docker_hub_sends_it() -> None:
    header = 'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"'
    challenge = parse_challenge(header)
    assert challenge is not None
    assert (challenge.scheme, challenge.realm) == ("bearer", "https://auth.docker.io/token")
    assert dict(challenge.params) == {"realm": "https://auth.docker.io/token", "service": "registry.docker.io",
                                      "scope": "repository:library/nginx:pull"}


def test_quoted_commas_escapes_and_unquoted_values() -> None:
    challenge = parse_challenge('Bearer realm="https://ghcr.io/token", service=ghcr.io, scope="repository:a/b:pull,push", x="q\\"t"')
    assert challenge is not None
    assert challenge.params["scope"] == "repository:a/b:pull,push"
    assert challenge.params["service"] == "ghcr.io"
    assert challenge.params["x"] == 'q"t'


def test_basic_and_garbage() -> None:
    basic = parse_challenge('Basic realm="Registry Realm"')
    assert basic is not None and basic.scheme == "basic" and basic.realm == "Registry Realm"
    assert parse_challenge(None) is None
    assert parse_challenge("  ") is None
    assert parse_challenge('"quoted" realm=x') is None
