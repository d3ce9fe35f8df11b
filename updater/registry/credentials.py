"""Registry credentials: docker `config.json` `auths` (base64 `user:password` in `auth`, or
`username`/`password`, or `identitytoken`), from the environment or the usual files.

Sources, first that has an entry for the host wins:
  1. `DOCKER_AUTH_CONFIG`  the text of a config.json (GitLab CI's variable for the same purpose);
  2. `REGISTRY_AUTH_FILE`  a file in that format (podman, skopeo, buildah);
  3. `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json` (what `docker login` and
     docker/login-action write).
No entry means anonymous. Credential helpers (`credsStore`, `credHelpers`) run programs; they are
not supported and named in a warning instead of being skipped silently. Every secret read is
registered for masking at once. Pure except `load_credentials` (reads at most two files).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from updater.errors import BadInput
from updater.registry.names import same_registry
from updater.secrets import register_secret

log = logging.getLogger("updater.registry")

_MAX_FILE = 1 << 20  # a config.json is a few kilobytes; refuse to slurp anything huge


@dataclass(frozen=True)
class Login:
    username: str
    password: str  # or the identity token (username "<token>")
    source: str  # where it came from, for messages: never the secret itself

    def __repr__(self) -> str:  # dataclass repr would print the password
        return f"Login(username={self.username!r}, source={self.source!r})"


@dataclass(frozen=True)
class Credentials:
    """Logins by registry host, as read from one or more auth files (first source listed first)."""

    logins: tuple[tuple[str, Login], ...] = ()
    sources: tuple[str, ...] = field(default=())  # what was looked at, for "no credentials" messages

    def for_host(self, host: str) -> Login | None:
        return next((login for key, login in self.logins if same_registry(key, host)), None)


def parse_auth_file(text: str, *, source: str) -> tuple[tuple[str, Login], ...]:
    """The logins in a config.json text; `BadInput` naming `source` when it is not one."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise BadInput(f"{source}: not valid JSON ({err.msg} at line {err.lineno}); fix or remove it") from err
    if not isinstance(data, dict):
        raise BadInput(f"{source}: expected a JSON object with \"auths\"")
    helpers = [key for key in ("credsStore", "credHelpers") if data.get(key)]
    if helpers:
        log.warning("warning: %s: %s not supported (credential helpers run programs); "
                    "use \"auths\" entries or DOCKER_AUTH_CONFIG", source, " and ".join(helpers))
    auths = data.get("auths") or {}
    if not isinstance(auths, dict):
        raise BadInput(f"{source}: \"auths\" must be an object of registry -> {{\"auth\": base64}}")
    return tuple((_host_of(key), login) for key, entry in auths.items()
                 if (login := _login(entry, key, source)) is not None)


def _login(entry: Any, key: str, source: str) -> Login | None:
    if not isinstance(entry, dict):
        raise BadInput(f"{source}: auths[{key!r}] must be an object")
    if entry.get("identitytoken"):
        token = str(entry["identitytoken"])
        register_secret(token)
        return Login("<token>", token, source)
    if entry.get("auth"):
        try:
            decoded = base64.b64decode(str(entry["auth"]), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as err:
            raise BadInput(f"{source}: auths[{key!r}].auth is not base64 of user:password") from err
        username, colon, password = decoded.partition(":")
        if not colon:
            raise BadInput(f"{source}: auths[{key!r}].auth is not base64 of user:password (no ':')")
    elif entry.get("username") and entry.get("password"):
        username, password = str(entry["username"]), str(entry["password"])
    else:
        return None  # an empty entry (docker leaves them behind after logout)
    register_secret(password)
    register_secret(base64.b64encode(f"{username}:{password}".encode()).decode())  # the Basic header's form
    return Login(username, password, source)


def _host_of(key: str) -> str:
    """`https://index.docker.io/v1/` → `index.docker.io`; `ghcr.io` stays."""
    host = key.split("://", 1)[-1]
    return host.split("/", 1)[0].lower()


def load_credentials(env: Mapping[str, str], *, home: Path | None = None) -> Credentials:
    """Every login the environment and auth files offer, in precedence order."""
    logins: list[tuple[str, Login]] = []
    sources: list[str] = []
    if env.get("DOCKER_AUTH_CONFIG"):
        sources.append("DOCKER_AUTH_CONFIG")
        logins += parse_auth_file(env["DOCKER_AUTH_CONFIG"], source="DOCKER_AUTH_CONFIG")
    files = []
    if env.get("REGISTRY_AUTH_FILE"):
        files.append(Path(env["REGISTRY_AUTH_FILE"]))
    if env.get("DOCKER_CONFIG"):
        files.append(Path(env["DOCKER_CONFIG"]) / "config.json")
    elif home is not None:
        files.append(home / ".docker" / "config.json")
    for path in files:
        sources.append(str(path))
        text = _read(path, explicit=path == files[0] and bool(env.get("REGISTRY_AUTH_FILE")))
        if text is not None:
            logins += parse_auth_file(text, source=str(path))
    return Credentials(tuple(logins), tuple(sources))


def _read(path: Path, *, explicit: bool) -> str | None:
    try:
        if path.stat().st_size > _MAX_FILE:
            raise BadInput(f"{path}: larger than {_MAX_FILE} bytes; not an auth file")
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        if explicit:
            raise BadInput(f"REGISTRY_AUTH_FILE={path}: no such file") from err
        return None
    except (OSError, UnicodeDecodeError) as err:
        raise BadInput(f"cannot read registry auth file {path}: {err}") from err
