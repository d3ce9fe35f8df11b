"""The settings builder of `updater bump` and `updater rebase`: parsed flags + the environment +
`.updater.yml` (when `--target` names one) resolved once into a frozen `BumpRequest`, which is all
that code below `updater.commands` sees.

The config file is read only for `--target`: from `--config FILE`, else `.updater.yml` at the root
of `--dir` (local mode) or of the remote's `--branch` / default branch (repo modes, one small
sparse clone via `updater.repo_config`, before the mode is chosen, since a target can set the mode
and the branch). The environment is a mapping passed in; nothing here reads `os.environ`.
"""

from __future__ import annotations

import math

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from updater.bump.governance import Governance, governance_for
from updater.config import Config, Target, find_config, read_config
from updater.errors import BadInput
from updater.options.flags import given_flags
from updater.options.resolve import resolve
from updater.options.table import OPTIONS, Command, for_command

RemoteReader = Callable[..., Config | None]


@dataclass(frozen=True)
class BumpRequest:
    """Every option of one run, resolved (see `updater.options.table` for each default's reason).
    `updater rebase` uses the same type: its bump-only fields keep their built-in defaults."""

    image: tuple[str, ...] = ()
    target: str | None = None  # after resolution: the full target name, e.g. "api/staging"
    config: str | None = None
    allow_downgrade: bool = False
    allow_missing: bool = False
    dir: str = "."
    path: tuple[str, ...] = ()
    no_validate: bool = False
    kube_version: str | None = None  # None: the newest bundled schemas (see kube_schema.resolve_version)
    no_schema_validation: bool = False
    allow_remote_resources: bool = False
    repo: str | None = None
    branch: str | None = None
    mode: str | None = None
    token_env: str | None = None
    app_id: str | None = None  # GitHub App auth (with one of the two key options)
    app_private_key_env: str | None = None
    app_private_key_file: str | None = None
    sign: str | None = None  # ssh | gpg: sign every commit (the key from signing_key_env)
    signing_key_env: str | None = None
    message: str | None = None
    author: str | None = None
    committer: str | None = None
    commit_via: str = "git"  # git: commit + push; api: GitHub's createCommitOnBranch (signed by GitHub)
    retries: int = 20
    retry_timeout: float = 300.0
    retry_wait: float = 0.25
    retry_wait_max: float = 15.0
    provider: str | None = None
    api_url: str | None = None
    pr_branch: str | None = None
    title: str | None = None
    body: str | None = None
    label: tuple[str, ...] = ()
    reviewer: tuple[str, ...] = ()
    assignee: tuple[str, ...] = ()
    draft: bool = False
    auto_merge: bool = False
    merge_method: str = "squash"
    all: bool = False
    dry_run: bool = False
    json: bool = False
    # `.updater.yml` `policy:` of the target (no flag: a pipeline cannot turn the repository's rules off)
    governance: Governance | None = None


def build_request(parsed: Mapping[str, Any], env: Mapping[str, str], *, command: Command = "bump",
                  remote: RemoteReader | None = None, loaded: Config | None = None) -> BumpRequest:
    """Resolve `parsed` (argparse values, None = not given) for `command` into the request.
    `loaded`: the `.updater.yml` already read and validated (`updater watch` reads it once for all
    its targets); without it, `--target` reads it as described above."""
    flags = given_flags(parsed, command)
    _check_finite(flags, command)
    found = _target(flags, env, remote, loaded) if command == "bump" else None
    target = found[0] if found else None
    layers = [target.settings] if target else []
    values = resolve(for_command(command, OPTIONS), flags=flags, env=env, layers=layers)
    if found is not None:
        target, config = found
        _check_images(values["image"], target)
        values["target"] = target.name
        values["governance"] = governance_for(config.data, app=target.app, environment=target.environment,
                                              source=config.source, labels=values["label"],
                                              reviewers=values["reviewer"])
    return BumpRequest(**values)


def _target(flags: Mapping[str, Any], env: Mapping[str, str], remote: RemoteReader | None,
            loaded: Config | None) -> tuple[Target, Config] | None:
    name, config_file = flags.get("target"), flags.get("config")
    if not name:
        if config_file:
            raise BadInput("--config is only used with --target: name the target to take settings from")
        return None
    if loaded is not None:
        return loaded.target(name), loaded
    repo = flags.get("repo")
    config: Config | None
    if config_file:
        config = read_config(Path(config_file), source=config_file)
    elif repo is None:
        path = find_config(Path(flags.get("dir") or "."))
        config = read_config(path) if path else None
    else:
        if remote is None:
            from updater.repo_config import read_repo_config

            remote = read_repo_config
        from updater.auth import AppOptions  # the .updater.yml read authenticates as the run will

        config = remote(repo, branch=flags.get("branch"), token_env=flags.get("token_env"), env=env,
                        app=AppOptions.from_values(flags, env), provider=flags.get("provider"),
                        api_url=flags.get("api_url"))
    if config is None:
        where = (flags.get("dir") or ".") if repo is None else repo
        raise BadInput(f"--target {name!r} needs a config file: no .updater.yml in {where} (or give --config)")
    return config.target(name), config


def _check_finite(flags: Mapping[str, Any], command: Command) -> None:
    """`float()` accepts "nan" and "inf": a NaN timeout compares false with everything (never times out)
    and an infinite wait sleeps forever. Refused before anything is cloned (exit 2)."""
    for row in for_command(command, OPTIONS):
        value = flags.get(row.dest)
        if row.kind == "float" and value is not None and not math.isfinite(value):
            raise BadInput(f"{row.flag} {value}: give a finite number of seconds")


def _check_images(images: tuple[str, ...], target: Target) -> None:
    from updater.refs import ImageRef, canonical_name

    want = canonical_name(target.image or "")
    if not target.image:
        return
    for text in images:
        if ImageRef.parse(text).canonical_name != want:
            raise BadInput(f"--image {text!r} is not the image of target {target.name} ({target.image}); "
                           f"give --image {target.image}:<tag>")


def request_fields() -> tuple[str, ...]:
    return tuple(f.name for f in fields(BumpRequest))
