"""Read the manifest repository's `.updater.yml` from its remote, before `updater bump` picks a mode.

`--target` settings include the mode (push or pr) and the branch, so they must be known before the
dispatch to a landing mode, which builds its settings before it clones. This does one shallow,
partial, sparse clone holding only the config file (a few kilobytes), of `--branch` if given, else
the remote's default branch; git, auth and cleanup are the git workspace's.
"""

from __future__ import annotations

from collections.abc import Mapping

from updater.auth import AppOptions, RepoAuth, repo_auth
from updater.config import CONFIG_NAMES, Config, find_config, read_config


def read_repo_config(url: str, *, branch: str | None, token_env: str | None, env: Mapping[str, str],
                     app: AppOptions | None = None, provider: str | None = None, api_url: str | None = None,
                     auth: RepoAuth | None = None) -> Config | None:
    """The remote's `.updater.yml` (or `.yaml`), or None when it has none. Authenticated with `auth`
    when the caller has it, else as `updater.auth.repo_auth` chooses (a GitHub App with `app`)."""
    from updater.git.workspace import Workspace

    if auth is None:
        auth = repo_auth(url, env, token_env=token_env, app=app or AppOptions(), provider=provider, api_url=api_url)
    with Workspace.clone(auth.url, credentials=auth.credentials, branch=branch, sparse=CONFIG_NAMES) as workspace:
        path = find_config(workspace.root)
        return read_config(path, source=path.name) if path else None
