"""Round trips of one pull-request-mode bump against the local forge (issue 16 item 4): git over HTTP
sends the token pre-emptively (no 401 challenge), the bump makes at most 8 git HTTP requests and at
most 3 API calls, and the token (plain or as the Basic header) never reaches git's argv or any
`.git/config` of the clone — it travels only in git's environment."""

from __future__ import annotations

import base64
import os
import shutil
import stat
from pathlib import Path

import pytest

from tests.landing.pr_support import PROVIDERS, REPO, app_files, settings
from updater.landing.pr import bump_pr

pytestmark = pytest.mark.parametrize("provider", PROVIDERS)

MAX_GIT_REQUESTS = 8  # was 16: every operation took a 401 challenge, plus two ls-remotes a bump does not need
MAX_API_CALLS = 3  # look up the PR, open it, label it

API = ("github", "graphql", "gitlab")


def _spy_git(tmp_path: Path) -> tuple[Path, Path]:
    """A `git` first on PATH that records its argv and, after each command, the clone's
    .git/config, then runs the real git: what a `ps` or a leftover clone would show."""
    real = shutil.which("git")
    assert real
    spy_dir, log = tmp_path / "spy", tmp_path / "git-calls.log"
    spy_dir.mkdir()
    script = spy_dir / "git"
    script.write_text(f"""#!/bin/sh
printf 'argv: %s\\n' "$*" >> '{log}'
'{real}' "$@"
status=$?
for config in .git/config repo/.git/config; do
  [ -f "$config" ] && cat "$config" >> '{log}'
done
exit $status
""")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return spy_dir, log


def test_one_pr_bump_needs_at_most_8_git_requests_and_no_challenge(forge, provider, tmp_path, monkeypatch):
    forge.create_repo(REPO, app_files(2))
    spy_dir, log = _spy_git(tmp_path)
    monkeypatch.setenv("PATH", f"{spy_dir}{os.pathsep}{os.environ['PATH']}")
    config = settings(forge, provider, "--image", "ghcr.io/acme/app01:1.1.0", "--label", "deploy")
    since = len(forge.requests)

    result = bump_pr(config)

    assert result.outcome == "created"
    requests = forge.requests[since:]
    git = [r for r in requests if r.service == "git"]
    api = [r for r in requests if r.service in API]
    assert [r.status for r in git if r.status == 401] == []  # credentials went with the first request
    assert 0 < len(git) <= MAX_GIT_REQUESTS, [f"{r.method} {r.path}" for r in git]
    assert len(api) <= MAX_API_CALLS, [f"{r.method} {r.path}" for r in api]

    seen = log.read_text()
    assert " clone --quiet" in seen and " push --porcelain" in seen and "[remote \"origin\"]" in seen  # the spy saw the run
    basic = base64.b64encode(f"{config.credentials.username}:{forge.token}".encode()).decode()
    assert forge.token not in seen and basic not in seen
    assert "extraheader" not in seen.lower()  # the header is config from the environment, never written
