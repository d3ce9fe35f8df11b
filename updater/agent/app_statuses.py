"""The agent's commit statuses posted as a GitHub App (`status: {app_id, app_private_key_file}`):
the key is read once at start, and each app's repository gets its own installation, found on the
first post (an app not installed there fails that post, not the agent) and whose token is minted
again before it expires, for as long as the agent runs.

Boundary: building `GitHubStatuses` posters with a token source; PyGithub stays inside
`updater.forges.github_app` (imported only when an App is configured).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING

from updater.agent.report import GitHubStatuses, repo_slug
from updater.agent.settings import StatusSettings
from updater.auth import STATUSES_WRITE
from updater.errors import BadInput

# the settings as the operator writes them (flag / agent.yml `status:` key), for BadInput messages
NAMES = ("--status-app-id (status.app_id)", "--status-app-private-key-env (status.app_private_key_env)",
         "--status-app-private-key-file (status.app_private_key_file)")

if TYPE_CHECKING:
    from updater.forges.github_app import AppKey, InstallationTokens


class InstallationTokenSource:
    """The current installation token of one app for one repository, found lazily."""

    def __init__(self, key: AppKey, *, api_url: str, slug: str) -> None:
        self.key, self.api_url, self.slug = key, api_url, slug
        self._tokens: InstallationTokens | None = None
        self._lock = threading.Lock()  # several clusters' workers may post for the same app

    def __call__(self) -> str:
        from updater.forges.github_app import InstallationTokens

        with self._lock:
            if self._tokens is None:
                self._tokens = InstallationTokens(self.key, api_url=self.api_url, project=self.slug)
            return self._tokens.token()


def app_statuses(status: StatusSettings, repos: Mapping[str, str],
                 env: Mapping[str, str]) -> dict[str, GitHubStatuses | None]:
    """A poster per agent app (name -> repository URL) authenticated as the configured GitHub App.
    The key is checked now (BadInput naming the setting); nothing is asked of GitHub yet."""
    from updater.forges.github_app import read_app_key

    if status.provider != "github" or not status.api_url:
        raise BadInput("status: app_id (a GitHub App) needs provider: github and api_url "
                       "(--status-provider github --status-api https://api.github.com)")
    key = read_app_key(str(status.app_id or ""), key_env=status.app_private_key_env,
                       key_file=status.app_private_key_file, env=env, names=NAMES)
    posters: dict[str, GitHubStatuses | None] = {}
    for name, repo in repos.items():
        source = InstallationTokenSource(key, api_url=status.api_url, slug=repo_slug(repo))
        posters[name] = GitHubStatuses(status.api_url, source.slug, None, token_source=source, who=key.name,
                                       needs=STATUSES_WRITE)
    return posters
