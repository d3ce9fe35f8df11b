"""Helpers for forge tests: a git clone pushing with the forge's token, polling, and a PyGithub client."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import github

from tests.gitrepos import askpass_env, commit_all, git, write_tree
from updater_sandbox.forge import Forge

T = TypeVar("T")


class Workspace:
    """A clone of one forge repository, pushing with real git over HTTP."""

    def __init__(self, forge: Forge, full_name: str, tmp: Path, name: str = "work") -> None:
        self.env = askpass_env(tmp, forge.token)
        self.path = tmp / name
        git("clone", "-q", forge.repo_url(full_name), str(self.path), cwd=tmp, env=self.env)

    def git(self, *args: str) -> str:
        return git(*args, cwd=self.path, env=self.env)

    def commit_on(self, branch: str, files: dict[str, str], message: str, *, start: str = "origin/main") -> str:
        """Check out `branch` (new from `start` unless it exists), write files, commit, push; the sha."""
        self.git("fetch", "-q", "origin")
        existing = self.git("ls-remote", "--heads", "origin", branch)
        self.git("checkout", "-q", "-B", branch, f"origin/{branch}" if existing else start)
        write_tree(self.path, files)
        sha = commit_all(self.path, message)
        self.git("push", "-q", "origin", f"{branch}:{branch}")
        return sha


def wait_for(probe: Callable[[], T], *, timeout: float = 60.0, interval: float = 0.05) -> T:
    """Poll `probe()` until it returns something truthy (as a bot polls a forge); that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value or time.monotonic() > deadline:
            assert value, f"gave up after {timeout}s waiting for {probe}"
            return value
        time.sleep(interval)


def github_client(forge: Forge, **options: Any) -> github.Github:
    """PyGithub on the forge, without its client-side pacing (1 s between writes by default), which
    only slows tests down: the forge itself is what is under test."""
    options = {"base_url": forge.github_api_url, "seconds_between_requests": 0, "seconds_between_writes": 0,
               **options}
    return github.Github(auth=github.Auth.Token(forge.token), **options)
