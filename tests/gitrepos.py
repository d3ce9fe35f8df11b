"""Real git repositories for tests: a bare "remote" seeded with files, clones, and commits.

Typed helpers rather than fixtures so any test (or benchmark) can build exactly the repos it needs.
Every command runs with a fixed identity and no user/system config, so results do not depend on
the machine.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.test",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.test",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_TERMINAL_PROMPT": "0",
}


def git(*args: str, cwd: Path, env: Mapping[str, str] | None = None, check: bool = True) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV, **(env or {})},
        capture_output=True, text=True,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout.strip()


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content)
        else:
            path.write_bytes(content)


def make_remote(base: Path, files: Mapping[str, str | bytes], *, name: str = "manifests.git", branch: str = "main") -> Path:
    """A bare repository at base/name whose `branch` holds one commit with `files`."""
    bare = base / name
    bare.parent.mkdir(parents=True, exist_ok=True)
    git("init", "--bare", "-q", "-b", branch, str(bare), cwd=base)
    seed = base / (name.removesuffix(".git") + "-seed")
    git("init", "-q", "-b", branch, str(seed), cwd=base)
    write_tree(seed, files)
    git("add", "-A", cwd=seed)
    git("commit", "-q", "-m", "seed", cwd=seed)
    git("push", "-q", str(bare), f"{branch}:{branch}", cwd=seed)
    return bare


def clone(remote: str | Path, dest: Path, *, env: Mapping[str, str] | None = None) -> Path:
    git("clone", "-q", str(remote), str(dest), cwd=dest.parent, env=env)
    return dest


def commit_all(repo: Path, message: str) -> str:
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", message, cwd=repo)
    return git("rev-parse", "HEAD", cwd=repo)


def read_blob(bare: Path, ref: str, path: str) -> str:
    return git("show", f"{ref}:{path}", cwd=bare)


def askpass_env(tmp: Path, password: str, *, user: str = "x-access-token") -> dict[str, str]:
    """Environment making git answer HTTP auth prompts with user/password (as CI does)."""
    script = tmp / "askpass.sh"
    script.write_text(f'#!/bin/sh\ncase "$1" in Username*) echo {user};; *) echo {password};; esac\n')
    script.chmod(0o700)
    return {"GIT_ASKPASS": str(script)}
