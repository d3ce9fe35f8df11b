"""Many real `updater bump --mode push` processes racing on one branch over git http-backend.

Bounded: every process has a timeout, and the retry waits are short (flags), so the whole module
takes tens of seconds on 2 cores even with 24 concurrent processes.
"""

from __future__ import annotations

import random
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gitrepos import git, read_blob
from tests.landing.push_helpers import TOKEN, cli_env, deployment, manifest_remote, start_bump
from updater_sandbox.git_http import GitHttpServer

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("push-races")]

# Generous counts with short waits: on a loaded 2-core machine 24 racers need many short rounds.
RACE_FLAGS = ["--retries", "60", "--retry-timeout", "240", "--retry-wait", "0.05", "--retry-wait-max", "2", "--json"]
APPS = [f"app-{i:02d}" for i in range(16)]
CONTAINERS = 8


@pytest.fixture()
def bare(tmp_path: Path) -> Path:
    files = {f"apps/{app}/deploy.yaml": deployment(app, f"ghcr.io/acme/{app}:1.0.0") for app in APPS}
    files["apps/shared/deploy.yaml"] = deployment("shared", *(f"ghcr.io/acme/c{i}:1.0.0" for i in range(CONTAINERS)))
    return manifest_remote(tmp_path / "srv", files)


@pytest.fixture()
def server(bare: Path) -> Iterator[GitHttpServer]:
    with GitHttpServer(bare.parent.parent, token=TOKEN) as served:
        yield served


def wait_all(procs: list[subprocess.Popen[str]], timeout: float = 280) -> list[tuple[int, str, str]]:
    deadline = time.monotonic() + timeout
    results = []
    for proc in procs:
        try:
            out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            for other in procs:
                other.kill()
            raise
        results.append((proc.returncode, out, err))
    return results


def test_24_racers_on_one_branch_all_land_on_a_linear_history(server: GitHttpServer, bare: Path,
                                                             tmp_path: Path) -> None:
    env = cli_env(tmp_path, {"GITHUB_TOKEN": TOKEN})
    url = server.repo_url("acme/gitops.git")
    images = [f"ghcr.io/acme/{app}:1.1.0" for app in APPS] + [f"ghcr.io/acme/c{i}:1.1.0" for i in range(CONTAINERS)]
    random.shuffle(images)
    procs = [start_bump(url, image, env=env, extra=RACE_FLAGS) for image in images]
    results = wait_all(procs)
    failures = [(image, code, err[-500:]) for image, (code, _, err) in zip(images, results) if code != 0]
    assert failures == []
    assert git("rev-list", "--merges", "main", cwd=bare) == ""
    assert git("rev-list", "--count", "main", cwd=bare) == str(1 + len(images))  # seed + one commit per bump
    for app in APPS:
        assert f"ghcr.io/acme/{app}:1.1.0" in read_blob(bare, "main", f"apps/{app}/deploy.yaml")
    assert read_blob(bare, "main", "apps/shared/deploy.yaml") == \
        deployment("shared", *(f"ghcr.io/acme/c{i}:1.1.0" for i in range(CONTAINERS))).rstrip("\n")
    assert git("fsck", "--no-dangling", cwd=bare) == ""
    assert any('"attempts": 1,' not in out for _, out, _ in results)  # there really was a race


def test_increasing_tags_in_random_order_end_at_the_highest_never_lower(server: GitHttpServer, bare: Path,
                                                                      tmp_path: Path) -> None:
    env = cli_env(tmp_path, {"GITHUB_TOKEN": TOKEN})
    url = server.repo_url("acme/gitops.git")
    tags = [f"1.{minor}.0" for minor in range(1, 7)]
    order = random.sample(tags, len(tags))
    procs = []
    for tag in order:
        procs.append(start_bump(url, f"ghcr.io/acme/app-00:{tag}", env=env, extra=RACE_FLAGS))
        time.sleep(random.uniform(0, 0.15))
    results = dict(zip(order, wait_all(procs)))
    assert "ghcr.io/acme/app-00:1.6.0" in read_blob(bare, "main", "apps/app-00/deploy.yaml")
    assert results["1.6.0"][0] == 0, results["1.6.0"][2]
    for tag, (code, _, err) in results.items():
        # 0: landed, already current, or superseded while retrying; 4: the branch was already newer
        # when this (older) run cloned it — a plain downgrade request
        assert code in (0, 4), (tag, err[-500:])
        if code == 4:
            assert "refusing to downgrade" in err
    history = git("log", "--first-parent", "--format=%H", "main", cwd=bare).splitlines()[::-1]
    versions = []
    for sha in history:
        text = git("show", f"{sha}:apps/app-00/deploy.yaml", cwd=bare)
        versions.append(tuple(int(p) for p in text.split("app-00:")[1].split()[0].split(".")))
    assert versions == sorted(versions)  # the branch never went to a lower version
    assert git("rev-list", "--merges", "main", cwd=bare) == ""
