"""Docker config.json logins: the forms docker writes, the precedence of sources, masking."""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path

import pytest

from updater.errors import BadInput
from updater.registry.credentials import load_credentials, parse_auth_file
from updater.secrets import mask


def auth(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def test_forms_docker_writes() -> None:
    text = json.dumps({"auths": {
        "https://index.docker.io/v1/": {"auth": auth("hubuser", "hub-password")},
        "ghcr.io": {"username": "octo", "password": "ghp_secret_value"},
        "registry.example:5000": {"identitytoken": "idtoken-value"},
        "empty.example": {},
    }})
    logins = dict(parse_auth_file(text, source="config.json"))
    assert sorted(logins) == ["ghcr.io", "index.docker.io", "registry.example:5000"]
    assert (logins["index.docker.io"].username, logins["index.docker.io"].password) == ("hubuser", "hub-password")
    assert logins["registry.example:5000"].username == "<token>"
    assert "hub-password" not in repr(logins["index.docker.io"])
    # every secret read is masked from then on, also in its Basic-header form
    assert mask(f"x hub-password {auth('hubuser', 'hub-password')} ghp_secret_value") == "x *** *** ***"


def test_docker_hub_spellings_match() -> None:
    creds = load_credentials({"DOCKER_AUTH_CONFIG": json.dumps({"auths": {"https://index.docker.io/v1/": {"auth": auth("u", "pppp")}}})})
    assert creds.for_host("registry-1.docker.io") is not None
    assert creds.for_host("ghcr.io") is None


def test_precedence_env_then_auth_file_then_docker_config(tmp_path: Path) -> None:
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "config.json").write_text(json.dumps({"auths": {"a.io": {"auth": auth("file", "pw-file")},
                                                                           "b.io": {"auth": auth("file", "pw-file")}}}))
    (tmp_path / "auth.json").write_text(json.dumps({"auths": {"b.io": {"auth": auth("podman", "pw-podman")}}}))
    env = {"DOCKER_AUTH_CONFIG": json.dumps({"auths": {"a.io": {"auth": auth("env", "pw-env")}}}),
           "REGISTRY_AUTH_FILE": str(tmp_path / "auth.json"), "DOCKER_CONFIG": str(tmp_path / "docker")}
    creds = load_credentials(env)
    assert [creds.for_host(h).username for h in ("a.io", "b.io")] == ["env", "podman"]  # type: ignore[union-attr]
    home = load_credentials({}, home=tmp_path)  # ~/.docker/config.json absent: anonymous, no error
    assert home.logins == () and home.sources == (str(tmp_path / ".docker" / "config.json"),)


def test_bad_files_name_the_source(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(BadInput, match="DOCKER_AUTH_CONFIG: not valid JSON"):
        load_credentials({"DOCKER_AUTH_CONFIG": "{"})
    with pytest.raises(BadInput, match=r"auths\['x.io'\].auth is not base64"):
        parse_auth_file(json.dumps({"auths": {"x.io": {"auth": "!!!"}}}), source="f")
    with pytest.raises(BadInput, match="REGISTRY_AUTH_FILE=.*no such file"):
        load_credentials({"REGISTRY_AUTH_FILE": str(tmp_path / "missing.json")})
    with caplog.at_level(logging.WARNING, logger="updater.registry"):
        parse_auth_file(json.dumps({"credsStore": "desktop", "auths": {}}), source="f")
    assert "credsStore not supported" in caplog.text
