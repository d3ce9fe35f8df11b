"""How one run authenticates to the manifest repository, chosen once for git and the forge API:
a token (from the environment or the `--repo` URL) or a GitHub App's installation tokens.

Every command that reaches the repository (bump in push and PR mode, rebase, watch, promote,
status, and the `.updater.yml` read before a mode is chosen) asks `repo_auth` and gets the clean
URL, the git `Credentials` (with App auth their `current` mints a fresh installation token before
one expires) and, with App auth, the `InstallationTokens` the API client authenticates with
(`open_api`). Boundary: choosing and building credentials; no git command, and the only network
calls are the App's (find the installation, mint its first token). Nothing here reads `os.environ`:
the environment mapping is handed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

from updater.errors import BadInput
from updater.forges.base import ForgeTarget, Provider, detect_target, open_provider
from updater.forges.settings import ProviderSettings
from updater.git.credentials import Credentials, resolve_credentials, split_url_credentials

if TYPE_CHECKING:
    from updater.forges.github_app import InstallationTokens

APP_ID_ENV = "GITHUB_APP_ID"  # the options table's default for --app-id (also read here for config reads)
# What a GitHub App needs beyond a bump's contents + pull_requests (named in 403 messages): reading the
# agent's commit statuses (promote's gate, status) and posting them (the agent).
STATUSES_READ = "the GitHub App permissions statuses: read (Commit statuses), contents: read and pull_requests: read"
STATUSES_WRITE = "the GitHub App permission statuses: write (Commit statuses: read and write)"


@dataclass(frozen=True)
class AppOptions:
    """--app-id and where its private key is (`--app-private-key-env` / `--app-private-key-file`)."""

    app_id: str | None = None
    key_env: str | None = None
    key_file: str | None = None

    @property
    def given(self) -> bool:
        return bool(self.app_id or self.key_env or self.key_file)

    @classmethod
    def from_values(cls, values: Mapping[str, Any], env: Mapping[str, str]) -> AppOptions:
        """From a request's (or argparse's) `app_id` / `app_private_key_env` / `app_private_key_file`;
        --app-id defaults to $GITHUB_APP_ID as the options table says."""
        app_id = values.get("app_id") or env.get(APP_ID_ENV, "").strip() or None
        return cls(app_id, values.get("app_private_key_env") or None, values.get("app_private_key_file") or None)


@dataclass(frozen=True)
class RepoAuth:
    url: str  # the repository URL without credentials
    credentials: Credentials  # for git (and, as a token, for the API)
    app: InstallationTokens | None = None  # GitHub App auth: the API authenticates with its tokens
    forge: ForgeTarget | None = None  # the forge API (App auth: where the tokens come from); None: unknown

    @property
    def can_call_api(self) -> bool:
        """There is something to authenticate API calls with (an App, or a token)."""
        return self.app is not None or bool(self.credentials.token)


def repo_auth(repo: str, env: Mapping[str, str], *, token_env: str | None, app: AppOptions,
              provider: str | None = None, api_url: str | None = None) -> RepoAuth:
    """Credentials for `repo`: a GitHub App's when `app` is given (the key is checked before any
    request, then the installation on the repository is found and its first token minted, so a
    revoked or suspended installation fails here with exit 6), else the token `resolve_credentials`
    picks (or none: anonymous, SSH). The App wins over `token_env`: the action also names the
    workflow's own token, which cannot write to another repository anyway."""
    if not app.given:
        url, credentials = resolve_credentials(repo, env, token_env=token_env)
        return RepoAuth(url, credentials)
    url = split_url_credentials(repo)[0]
    forge = detect_target(url, provider=provider, api_url=api_url, env=env)
    if forge.provider != "github":
        raise BadInput(f"--app-id: GitHub Apps authenticate on GitHub only, and {url} is a {forge.provider} "
                       "repository: use a token (--token-env)")
    from updater.forges.github_app import InstallationTokens, read_app_key  # PyGithub: imported only when used

    key = read_app_key(app.app_id or "", key_env=app.key_env, key_file=app.key_file, env=env)
    tokens = InstallationTokens(key, api_url=forge.api_url, project=forge.project)
    source = f"{key.name} installation {tokens.installation_id}"
    credentials = Credentials(tokens.token(), "x-access-token", source, current=tokens.token)
    return RepoAuth(url, credentials, tokens, replace(forge, token_env=source))


def forge_auth(repo: str, env: Mapping[str, str], *, token_env: str | None, app: AppOptions,
               provider: str | None = None, api_url: str | None = None) -> RepoAuth:
    """`repo_auth` for a command that also reads the forge API (promote, status): the forge's own
    token variable first (a CI job may hold both GITHUB_TOKEN and GITLAB_TOKEN), and `forge` set
    when the URL or the flags tell which forge it is (else None: git works, the API is unknown)."""
    if app.given:
        return repo_auth(repo, env, token_env=token_env, app=app, provider=provider, api_url=api_url)
    try:
        forge: ForgeTarget | None = detect_target(split_url_credentials(repo)[0], provider=provider,
                                                  api_url=api_url, token_env=token_env, env=env)
    except BadInput:
        forge = None
    own = forge.token_env if forge is not None and env.get(forge.token_env, "").strip() else None
    auth = repo_auth(repo, env, token_env=token_env or own, app=app)
    if forge is not None:
        forge = replace(forge, token_env=(auth.credentials.source or "").removeprefix("$") or forge.token_env)
    return replace(auth, forge=forge)


def open_api(forge: ForgeTarget, auth: RepoAuth, *, settings: ProviderSettings, permission: str | None = None) -> Provider:
    """The forge API client for `forge`, authenticated as `auth` says (an App's installation tokens,
    refreshed per request, or the token). `permission`: what a 403 names the App as needing."""
    if auth.app is None:
        return open_provider(forge, token=auth.credentials.token or "", settings=settings)
    from updater.forges.github import GitHubProvider  # PyGithub is slow to import: only now
    from updater.forges.github_app import APP_PERMISSION

    return cast(Provider, GitHubProvider(auth.forge or forge, token=auth.credentials.token or "",
                                         settings=settings, auth=auth.app.auth, permission=permission or APP_PERMISSION))
