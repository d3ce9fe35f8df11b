"""The one choke point for running subprocesses (git plumbing, kustomize, kubectl).

Every command runs with an explicit working directory and environment, a timeout, and captured
output; a failure raises `CommandFailed` whose message is masked of secrets. Nothing here decides
what a failure means: callers translate `CommandFailed` into their own named errors.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from updater.secrets import mask


@dataclass(frozen=True)
class Result:
    args: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace")


class CommandFailed(Exception):
    """A subprocess exited non-zero (or timed out). `result` is None on timeout."""

    def __init__(self, message: str, result: Result | None) -> None:
        super().__init__(mask(message))
        self.result = result


def run(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    input: bytes | None = None,
    timeout: float = 300.0,
    check: bool = True,
) -> Result:
    """Run `args`; `env` entries are added to (not replacing) the current environment."""
    full_env = {**os.environ, **env} if env else None
    try:
        done = subprocess.run(
            list(args), cwd=cwd, env=full_env, input=input, capture_output=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as err:
        raise CommandFailed(f"{args[0]} timed out after {timeout:.0f}s: {' '.join(args)}", None) from err
    except FileNotFoundError as err:
        raise CommandFailed(f"{args[0]} is not installed or not on PATH", None) from err
    result = Result(tuple(args), done.returncode, done.stdout, done.stderr)
    if check and done.returncode != 0:
        detail = (result.err.strip() or result.out.strip()).splitlines()
        last = detail[-1] if detail else f"exit status {done.returncode}"
        raise CommandFailed(f"{' '.join(args[:3])} failed: {last}", result)
    return result
