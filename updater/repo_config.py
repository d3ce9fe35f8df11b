"""Read the manifest repository's `.updater.yml` from its remote, before `updater bump` picks a mode.

`--target` settings include the mode (push or pr) and the branch, so they must be known before the
dispatch to a landing mode, which builds its settings before it clones. This does one shallow,
partial, sparse clone holding only the config file (a few kilobytes), of `--branch` if given, else
the remote's default branch; git, auth and cleanup are the git workspace's.
"""

from __future__ import annotations

from collections.abc import Mapping

from updater.config import CONFIG_NAMES, Config, find_config, read_config


def read_repo_config(url: str, *, branch: str | None, token_env: str | None, env: Mapping[str, str]) -> Config | None:
    """The remote's `.updater.yml` (or `.yaml`), or None when it has none."""
    from updater.git.credentials import resolve_credentials
    from updater.git.workspace import Workspace

    clean, credentials = resolve_credentials(url, env, token_env=token_env)
    with Workspace.clone(clean, credentials=credentials, branch=branch, sparse=CONFIG_NAMES) as workspace:
        path = find_config(workspace.root)
        return read_config(path, source=path.name) if path else None
