"""GitHub App authentication: app id + private key → JWT → the installation for the manifest
repository → installation tokens, refreshed before they expire. Boundary: reading the key and
minting tokens; the GitHub provider and git only ask `InstallationTokens.token()` / `.auth`.

Everything goes through PyGithub's own App auth: `Auth.AppAuth` signs the JWT (back-dated 60 s,
as GitHub's clock-skew rule expects), `GithubIntegration.get_repo_installation` finds the
installation, and `Auth.AppInstallationAuth` mints the token and mints a new one when the current
one is within 20 s of its expiry — so a long retry loop never uses an expired token, for the API
(PyGithub asks the auth on every request) and for git alike (the workspace asks `token()` before
every git command). The private key and every token are registered for masking before any use.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import requests

from updater.errors import AuthFailed, BadInput, TransientRemoteError
from updater.forges.github import Auth, GithubException, GithubIntegration
from updater.secrets import register_secret

T = TypeVar("T")

# What the app's installation needs for a PR-mode bump (named in 403 messages).
APP_PERMISSION = "the GitHub App permissions contents: write and pull_requests: write"


@dataclass(frozen=True)
class AppKey:
    """A GitHub App's id and private key (PEM), and where the key came from (for messages)."""

    app_id: str
    pem: str = field(repr=False)
    source: str

    @property
    def name(self) -> str:
        return f"GitHub App {self.app_id}"


def read_app_key(app_id: str, *, key_env: str | None, key_file: str | None, env: Mapping[str, str],
                 names: tuple[str, str, str] = ("--app-id", "--app-private-key-env", "--app-private-key-file"),
                 ) -> AppKey:
    """The app's key from `--app-private-key-env VAR` or `--app-private-key-file PATH`, registered
    for masking (the whole PEM and each of its lines). BadInput names the flag on a bad value;
    `names`: the three settings as the caller calls them (the agent's `--status-app-id`...)."""
    id_flag, env_flag, file_flag = names
    if not app_id.strip().isdigit():
        raise BadInput(f"{id_flag} {app_id!r}: a GitHub App id is a number (the app's settings page, 'App ID')")
    if key_env and key_file:
        raise BadInput(f"{env_flag} and {file_flag}: give one of them, not both")
    if key_env:
        pem, source = env.get(key_env, ""), f"${key_env}"
    elif key_file:
        try:
            pem, source = Path(key_file).read_text(encoding="utf-8"), key_file
        except (OSError, UnicodeDecodeError) as err:
            raise BadInput(f"{file_flag} {key_file}: cannot read it ({type(err).__name__})") from None
    else:
        raise BadInput(f"{id_flag} needs the app's private key: {env_flag} VAR or {file_flag} PATH")
    pem = pem.strip().replace("\\n", "\n")  # a PEM pasted into one line of a CI variable
    register_secret(pem)
    for line in pem.splitlines():
        if len(line) >= 16 and not line.startswith("-----"):
            register_secret(line)
    if "PRIVATE KEY-----" not in pem:
        raise BadInput(f"the private key in {source} is not a PEM private key (-----BEGIN ... PRIVATE KEY-----)")
    return AppKey(app_id.strip(), pem, source)


class InstallationTokens:
    """Installation tokens of one app for one repository (`owner/name`), minted on demand."""

    def __init__(self, key: AppKey, *, api_url: str, project: str, timeout: float = 30.0) -> None:
        self.key = key
        self.project = project
        app_auth = Auth.AppAuth(key.app_id, key.pem)
        self._integration = GithubIntegration(auth=app_auth, base_url=api_url, timeout=int(max(1, timeout)),
                                              retry=None)
        owner, _, name = project.partition("/")
        installation = self._ask(lambda: self._integration.get_repo_installation(owner, name),
                                 f"find its installation on {project}")
        self.installation_id = int(installation.id)
        self.auth = app_auth.get_installation_auth(self.installation_id, requester=self._integration.requester)
        self.token()  # fail now (revoked, suspended) rather than after the clone

    def token(self) -> str:
        """The current installation token (a new one when the last is about to expire)."""
        token = self._ask(lambda: self.auth.token, f"mint a token for installation {self.installation_id}")
        register_secret(token)
        return token

    def _ask(self, call: Callable[[], T], what: str) -> T:
        try:
            return call()
        except GithubException as err:
            detail = err.data.get("message", "") if isinstance(err.data, dict) else str(err.data or "")
            where = f"{self.key.name} ({self.project}): {what}"
            if err.status == 401:
                raise AuthFailed(f"{where}: GitHub refused the app's JWT (401: {detail}); check --app-id and the "
                                 f"private key in {self.key.source}") from None
            if err.status in (403, 404):
                raise AuthFailed(f"{where}: {err.status}: {detail or 'Not Found'}; the installation is revoked, "
                                 f"suspended or does not include {self.project}: install the app on it") from None
            if err.status >= 500 or err.status == 429:
                raise TransientRemoteError(f"{where}: GitHub answered {err.status}") from None
            raise AuthFailed(f"{where}: GitHub answered {err.status}: {detail}") from None
        except requests.exceptions.RequestException as err:
            raise TransientRemoteError(f"{self.key.name}: {what}: {type(err).__name__}") from None
