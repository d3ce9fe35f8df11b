"""Push mode against a misbehaving git server: dropped connections, 5xx, slowness, and the updater
itself killed with SIGKILL in the middle of a push. The remote must stay consistent throughout."""

from __future__ import annotations

import json
import os
import secrets
import signal
import threading
import time
from pathlib import Path

import pytest

from tests.gitrepos import git, read_blob
from tests.landing.push_helpers import (  # noqa: F401  (bare, server: fixtures)
    FAST_RETRIES,
    TOKEN,
    bare,
    cli_env,
    manifest_remote,
    run_bump,
    server,
    start_bump,
)
from updater_sandbox.git_http import GitHttpServer, delay, drop_connection, http_error

NEW = "ghcr.io/acme/api:1.1.0"


def passes(service: str, handler: object) -> bool:
    return False


def bump(server: GitHttpServer, tmp_path: Path, *extra: str) -> tuple[int, dict, str]:
    done = run_bump(server.repo_url("acme/gitops.git"), NEW, env=cli_env(tmp_path, {"GITHUB_TOKEN": TOKEN}),
                    extra=["--json", *FAST_RETRIES, *extra])
    return done.returncode, json.loads(done.stdout) if done.stdout.strip() else {}, done.stderr


def assert_landed_once(bare: Path) -> None:
    assert NEW in read_blob(bare, "main", "apps/api/deploy.yaml")
    assert git("rev-list", "--count", "main", cwd=bare) == "2"
    assert git("fsck", "--no-dangling", cwd=bare) == ""


def test_dropped_connections_during_push_are_retried(server: GitHttpServer, bare: Path, tmp_path: Path) -> None:
    # the ref advertisement passes, then the pack upload is cut (twice: curl itself retries once)
    server.faults["receive-pack"].extend([passes, drop_connection(), drop_connection()])
    code, report, err = bump(server, tmp_path)
    assert code == 0, err
    assert report["attempts"] >= 2 and "attempt 2/" in err
    assert_landed_once(bare)


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_during_push_are_retried(server: GitHttpServer, bare: Path, tmp_path: Path, status: int) -> None:
    server.faults["receive-pack"].append(http_error(status))
    code, report, err = bump(server, tmp_path)
    assert code == 0, err
    assert report["attempts"] == 2 and f"returned error: {status}" in err
    assert_landed_once(bare)


def test_server_error_during_clone_is_retried(server: GitHttpServer, bare: Path, tmp_path: Path) -> None:
    server.faults["upload-pack"].append(http_error(502))
    code, report, err = bump(server, tmp_path)
    assert code == 0, err
    assert report["attempts"] == 2
    assert_landed_once(bare)


def test_a_slow_server_is_waited_for(server: GitHttpServer, bare: Path, tmp_path: Path) -> None:
    server.faults["receive-pack"].extend([delay(1.0), delay(1.0)])
    started = time.monotonic()
    code, report, err = bump(server, tmp_path)
    assert code == 0, err
    assert report["attempts"] == 1 and time.monotonic() - started >= 2.0
    assert_landed_once(bare)


def test_a_server_that_keeps_failing_exhausts_the_budget_exit_7(server: GitHttpServer, bare: Path,
                                                               tmp_path: Path) -> None:
    server.faults["receive-pack"].extend([http_error(500)] * 3)
    code, _, err = bump(server, tmp_path, "--retries", "3")
    assert code == 7
    assert "still failing after 3 attempt(s)" in err and "returned error: 500" in err
    assert git("rev-list", "--count", "main", cwd=bare) == "1"


@pytest.mark.parametrize("victim", ["updater", "group"])
def test_kill_9_mid_push_leaves_the_remote_consistent(server: GitHttpServer, bare: Path, tmp_path: Path,
                                                     victim: str) -> None:
    """SIGKILL while the pack is being received: the branch is either untouched or has the whole commit.
    victim 'updater': only the Python process (its git push child carries on alone);
    'group': the updater and every git child it started."""
    seed = git("rev-parse", "main", cwd=bare)
    in_push = threading.Event()

    def hold(service: str, handler: object) -> bool:
        in_push.set()
        time.sleep(1.0)  # the request body has been read; the kill lands before git answers
        return False

    server.faults["receive-pack"].extend([passes, hold])
    proc = start_bump(server.repo_url("acme/gitops.git"), NEW, env=cli_env(tmp_path, {"GITHUB_TOKEN": TOKEN}),
                      extra=[*FAST_RETRIES])
    try:
        assert in_push.wait(60), "the push never started"
        if victim == "updater":
            os.kill(proc.pid, signal.SIGKILL)
        else:
            os.killpg(proc.pid, signal.SIGKILL)  # its own session: this group is the updater and its children
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
    time.sleep(1.5)  # let the server finish (or abandon) the request it was holding
    assert proc.returncode == -signal.SIGKILL
    assert git("fsck", "--no-dangling", cwd=bare) == ""
    tip = git("rev-parse", "main", cwd=bare)
    if tip != seed:  # the complete commit, on top of the seed, with exactly the bump
        assert git("rev-parse", "main^", cwd=bare) == seed
        assert git("diff", "--name-only", seed, "main", cwd=bare) == "apps/api/deploy.yaml"
        assert NEW in read_blob(bare, "main", "apps/api/deploy.yaml")
    # and a new run converges: it lands the bump, or finds it already there
    code, _, err = bump(server, tmp_path)
    assert code == 0, err
    assert_landed_once(bare)


def test_token_is_in_no_process_argv_and_no_clone_config_mid_push(tmp_path: Path) -> None:
    """While a push is held open by the server, look at every process's argv and at the live clone.
    A token of its own: another test (on another xdist worker) passes TOKEN in a URL on purpose."""
    token = f"argv-scan-{secrets.token_hex(8)}"
    bare = manifest_remote(tmp_path / "srv")
    in_push, release = threading.Event(), threading.Event()

    def hold(service: str, handler: object) -> bool:
        in_push.set()
        release.wait(30)
        return False

    with GitHttpServer(bare.parent.parent, token=token) as server:
        server.faults["receive-pack"].extend([passes, hold])
        env = cli_env(tmp_path, {"GITHUB_TOKEN": token})
        proc = start_bump(server.repo_url("acme/gitops.git"), NEW, env=env, extra=[*FAST_RETRIES])
        try:
            assert in_push.wait(60), "the push never started"
            argvs = []
            for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
                try:
                    argvs.append(cmdline.read_bytes())
                except OSError:
                    continue  # the process ended meanwhile
            assert any(b"push" in a for a in argvs)  # we did catch git mid-push
            assert not any(token.encode() in a for a in argvs)
            configs = list(Path(env["TMPDIR"]).glob("updater-*/repo/.git/config"))
            assert configs and all(token not in c.read_text() for c in configs)
        finally:
            release.set()
            out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert token not in out + err
