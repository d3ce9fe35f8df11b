"""`updater sandbox serve` as a user runs it: prints URLs and a token, serves git and both APIs,
stops cleanly on Ctrl-C, keeps repositories in --dir across runs, and refuses bad flags."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import requests

from tests.gitrepos import askpass_env, git


REPO_ROOT = Path(__file__).resolve().parents[2]


def _serve(*args: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen([sys.executable, "-m", "updater", "sandbox", "serve", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    printed: dict[str, str] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        key, _, value = line.partition(":")
        printed[key.strip()] = value.strip()
        if line.startswith("Ctrl-C"):
            return proc, printed
    raise AssertionError(f"serve exited early: {proc.wait()} {proc.stderr.read() if proc.stderr else ''}")


def _stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGINT)
    return proc.wait(timeout=120)  # bounded, generous: a loaded 2-core machine is slow to stop threads


def test_serve_prints_urls_and_token_and_serves_git_and_apis(tmp_path: Path) -> None:
    proc, printed = _serve("--repo", "acme/gitops", "--dir", str(tmp_path / "forge"), "--mergeability-delay", "0",
                           "--validate")
    try:
        base = re.match(r"(http://127\.0\.0\.1:\d+)", printed["git"]).group(1)  # type: ignore[union-attr]
        token = printed["token"]
        user = requests.get(f"{base}/api/v3/user", headers={"Authorization": f"token {token}"}, timeout=10)
        assert user.json()["login"] == "sandbox-bot"
        project = requests.get(f"{base}/api/v4/projects/acme%2Fgitops", headers={"PRIVATE-TOKEN": token}, timeout=10)
        assert project.json()["default_branch"] == "main"
        git("clone", "-q", f"{base}/acme/gitops.git", str(tmp_path / "c"), cwd=tmp_path, env=askpass_env(tmp_path, token))
        assert (tmp_path / "c" / "README.md").exists()
        missing = requests.get(f"{base}/api/v3/repos/acme/none", headers={"Authorization": f"token {token}"},
                               timeout=10)
        assert missing.status_code == 404
    finally:
        assert _stop(proc) == 0
    log = proc.stderr.read() if proc.stderr else ""
    assert "forge: GET /api/v3/repos/acme/none -> 404 Not Found" in log and "contract:" not in log
    again, printed = _serve("--dir", str(tmp_path / "forge"))
    try:
        assert "acme/gitops" in printed[f"repositories under {tmp_path / 'forge'}"]
    finally:
        assert _stop(again) == 0


def test_bad_flags_are_one_line_errors_with_exit_2(tmp_path: Path) -> None:
    env = {**os.environ}
    bad_port = subprocess.run([sys.executable, "-m", "updater", "sandbox", "serve", "--port", "70000"],
                              capture_output=True, text=True, env=env, timeout=60, cwd=REPO_ROOT)
    assert bad_port.returncode == 2 and bad_port.stderr.strip().splitlines() == [
        "updater: error: --port 70000: must be between 0 and 65535"]
    (tmp_path / "file").write_text("x")
    bad_dir = subprocess.run([sys.executable, "-m", "updater", "sandbox", "serve", "--dir", str(tmp_path / "file")],
                             capture_output=True, text=True, env=env, timeout=60, cwd=REPO_ROOT)
    assert bad_dir.returncode == 2 and "is not a directory" in bad_dir.stderr
    bad_repo = subprocess.run([sys.executable, "-m", "updater", "sandbox", "serve", "--repo", "no-owner"],
                              capture_output=True, text=True, env=env, timeout=60, cwd=REPO_ROOT)
    assert bad_repo.returncode == 2 and bad_repo.stderr.startswith("updater: error: --repo no-owner:")
