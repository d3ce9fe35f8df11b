"""`updater watch --every` as a long-running process: the real CLI in its own process, a real
registry (distribution 2.8) and the local forge; a tag pushed between two passes is opened as a
pull request by the next pass, a registry that is down fails each pass in one line without ending
the loop, and SIGTERM (exit 0) or SIGINT (exit 130) ends it cleanly. Every process is bounded: the
test stops the one it started, and kills it if it outlives the bound."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pytest

from tests.registry.server import Registry, free_port
from tests.registry.test_watch import DEPLOY, config, tree
from updater.cli import main
from updater.errors import ExitCode
from updater_sandbox.forge import Forge

ROOT = Path(__file__).resolve().parents[2]
BOUND = 60.0  # seconds any one wait for the watcher may take before the test fails


class Watcher:
    """A running `updater watch --every ...`: its stdout lines and stderr lines, read as they come."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: queue.Queue[str] = queue.Queue()
        self.err: list[str] = []
        assert process.stdout is not None and process.stderr is not None
        threading.Thread(target=self._read, args=(process.stdout, self.lines.put), daemon=True).start()
        threading.Thread(target=self._read, args=(process.stderr, self.err.append), daemon=True).start()

    @staticmethod
    def _read(stream: IO[str], put: Any) -> None:
        for line in stream:
            put(line)

    def next_pass(self) -> dict[str, Any]:
        """The next pass's JSON report (one line per pass with --json)."""
        report: dict[str, Any] = json.loads(self.lines.get(timeout=BOUND))
        return report

    def stop(self, signum: signal.Signals) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=BOUND)


@contextmanager
def watching(registry: Registry, *args: str, env: dict[str, str] | None = None) -> Iterator[Watcher]:
    env = {**os.environ, "DOCKER_AUTH_CONFIG": registry.auth_config(), "PYTHONPATH": str(ROOT), **(env or {})}
    process = subprocess.Popen([sys.executable, "-m", "updater", "watch", "--insecure-registry", registry.host,
                                "--json", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env)
    try:
        yield Watcher(process)
    finally:
        if process.poll() is None:  # the test failed before stopping it
            process.kill()
            process.wait(timeout=BOUND)


def test_a_tag_pushed_between_passes_is_proposed_by_the_next_pass(registry: Registry, repo_name: str,
                                                                  forge: Forge) -> None:
    image = f"{registry.host}/{repo_name}"
    registry.push(repo_name, "1.4.0")
    forge.create_repo("acme/gitops", {"apps/api/deploy.yaml": DEPLOY.format(ref=f"{image}:1.4.0"),
                                      ".updater.yml": config(("api", image, '{semver: "~1.4"}'))})
    gitops = forge.repo("acme/gitops")
    with watching(registry, "--every", "2s", "--repo", forge.repo_url("acme/gitops"), "--provider", "github",
                  "--api-url", forge.github_api_url, "--mode", "pr", env={"GITHUB_TOKEN": forge.token}) as watcher:
        first = watcher.next_pass()
        assert first["pass"] == 1 and first["targets"][0]["tag"] == "1.4.0"
        assert first["targets"][0]["bump"]["outcome"] == "unchanged"
        assert not [p for p in gitops.pulls.values() if p.state == "open"]
        registry.tag(repo_name, "1.4.0", "1.4.1")
        second = watcher.next_pass()
        while second["targets"][0]["tag"] != "1.4.1":  # the tag landed while a pass was listing
            second = watcher.next_pass()
        assert second["targets"][0]["bump"]["outcome"] == "created"
        [pull] = [p for p in gitops.pulls.values() if p.state == "open"]
        assert gitops.bare.git("show", f"{pull.head}:apps/api/deploy.yaml").out == DEPLOY.format(ref=f"{image}:1.4.1")
        assert watcher.stop(signal.SIGTERM) == 0
    err = "".join(watcher.err)
    assert "SIGTERM received: stopping after the current step" in err
    assert f"watch: stopped after {second['pass']} pass(es)" in err or \
        f"watch: stopped after {second['pass'] + 1} pass(es)" in err
    assert forge.token not in err


def test_a_registry_down_fails_each_pass_in_one_line_and_sigint_ends_the_loop(registry: Registry,
                                                                                tmp_path: Path) -> None:
    down = f"127.0.0.1:{free_port()}"
    root = tree(tmp_path, {"web": f"{down}/acme/web:1.0.0"}, config(("web", f"{down}/acme/web", '{semver: "^1"}')))
    with watching(registry, "--every", "1s", "--dir", str(root), "--insecure-registry", down,
                  "--registry-timeout", "1") as watcher:
        deadline = threading.Event()
        timer = threading.Timer(BOUND, deadline.set)
        timer.start()
        try:
            while sum("failed (exit 7)" in line for line in watcher.err) < 2 and not deadline.is_set():
                deadline.wait(0.2)
        finally:
            timer.cancel()
        assert watcher.process.poll() is None  # still looping
        assert watcher.stop(signal.SIGINT) == 130
    failed = [line for line in watcher.err if "failed (exit 7)" in line]
    assert len(failed) >= 2 and failed[0].startswith(f"watch: pass 1 failed (exit 7): {down}/acme/web: cannot reach")
    assert watcher.lines.empty()  # a failed pass prints no report
    assert (root / "apps" / "web" / "deploy.yaml").read_text() == DEPLOY.format(ref=f"{down}/acme/web:1.0.0")


def test_a_bad_interval_is_refused_before_any_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tree(tmp_path, {"api": "ghcr.io/acme/api:1.0.0"}, config(("api", "ghcr.io/acme/api", '{semver: "^1"}')))
    assert main(["watch", "--dir", str(root), "--every", "5 minutes"]) == ExitCode.BAD_INPUT
    assert "updater: error: --every '5 minutes' is not a duration: use e.g. 30s, 5m or 1h" in capsys.readouterr().err


def test_a_stop_during_a_pass_skips_the_bumps_not_yet_started(logged_in: Registry, repo_name: str, tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    import argparse
    import logging

    from updater.commands import watch
    from updater.watch.loop import Stop

    image = f"{logged_in.host}/{repo_name}"
    logged_in.push(repo_name, "1.4.0")
    logged_in.tag(repo_name, "1.4.0", "1.4.1")
    root = tree(tmp_path, {"api": f"{image}:1.4.0", "web": f"{image}:1.4.0"},
                config(("api", image, '{semver: "~1.4"}'), ("web", image, '{semver: "~1.4"}')))
    parser = argparse.ArgumentParser()
    watch.configure(parser)
    args = parser.parse_args(["--dir", str(root), "--insecure-registry", logged_in.host])
    stop = Stop()
    stop.set(signal.SIGTERM)  # arrived while the registry phase ran
    with caplog.at_level(logging.WARNING, logger="updater.watch"):
        watch.watch_pass(args, {"DOCKER_AUTH_CONFIG": logged_in.auth_config()}, stop=stop, number=1)
    assert "watch: stopping before api/prod and 1 other target(s)" in caplog.text
    assert all((root / "apps" / app / "deploy.yaml").read_text() == DEPLOY.format(ref=f"{image}:1.4.0")
               for app in ("api", "web"))
