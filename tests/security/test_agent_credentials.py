"""Issue 11, class 6 (agent side): secrets in the repository URL and key material on disk.

`--repo http://bot:TOKEN@host/...` put the token in git's argv, the agent's error output, the
inventory ConfigMap and Events; the agent left a kubeconfig client key in /tmp after exit. The URL
is stripped before any use (the token travels as a header), every form of it is masked, and key
material lives in one private directory removed at exit and on SIGTERM."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.agent.conftest import TOKEN, GitOpsRepo, agent_namespace, gitops, image_of  # noqa: F401 (fixture)
from updater.agent.credentials import split_url
from updater.cli import main
from updater_sandbox.kube.server import KubeApiServer

ROOT = Path(__file__).resolve().parents[2]


def with_credentials(url: str, userinfo: str) -> str:
    return url.replace("http://", f"http://{userinfo}@", 1)


@pytest.fixture()
def git_argv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every git command line the agent runs, recorded by a wrapper in front of the real git."""
    real = subprocess.run(["sh", "-c", "command -v git"], capture_output=True, text=True, check=True).stdout.strip()
    bin_dir, log = tmp_path / "bin", tmp_path / "git-argv.log"
    bin_dir.mkdir()
    wrapper = bin_dir / "git"
    wrapper.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\nexec "{real}" "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def cluster_text(kube: KubeApiServer) -> str:
    """Everything the agent stored in the cluster: inventories and Events."""
    return json.dumps([kube.list("v1", "ConfigMap", "updater-system"), kube.list("v1", "Event", "updater-system")])


def test_a_token_in_the_repo_url_is_used_but_never_shown(kube_api: KubeApiServer, kubeconfig: Path,
                                                         gitops: GitOpsRepo, tmp_path: Path, git_argv: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    agent_namespace(kube_api)
    repo = with_credentials(gitops.url, f"bot:{TOKEN}")
    assert main(["agent", "--repo", repo, "--path", "clusters/prod", "--name", "shop", "--once",
                 "--kubeconfig", str(kubeconfig), "--cache-dir", str(tmp_path / "cache")]) == 0
    assert image_of(kube_api) == "ghcr.io/acme/api:1.0.0"  # the server demands the token: it was sent
    argv = git_argv.read_text()
    assert "ls-remote" in argv and TOKEN not in argv
    out, err = capsys.readouterr()
    assert TOKEN not in out + err and TOKEN not in cluster_text(kube_api)
    for config in (tmp_path / "cache").rglob(".git/config"):
        assert TOKEN not in config.read_text()


def test_a_wrong_encoded_token_in_the_url_leaks_in_no_form(kube_api: KubeApiServer, kubeconfig: Path,
                                                           gitops: GitOpsRepo, tmp_path: Path, git_argv: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    agent_namespace(kube_api)
    encoded, decoded = "wr%2Fong-tok%40en-9", "wr/ong-tok@en-9"
    repo = with_credentials(gitops.url, f"bot:{encoded}")
    assert main(["agent", "--repo", repo, "--path", "clusters/prod", "--name", "shop", "--once",
                 "--kubeconfig", str(kubeconfig), "--cache-dir", str(tmp_path / "cache")]) == 6
    out, err = capsys.readouterr()
    shown = out + err + git_argv.read_text() + cluster_text(kube_api)
    assert "check the token" in err  # the one git failure classifier's auth hint
    for form in (encoded, decoded, "wr%2Fong", base64.b64encode(f"bot:{decoded}".encode()).decode()):
        assert form not in shown


@pytest.mark.parametrize(("url", "clean", "user", "password"), [
    ("https://bot:p%40ss@git.example.com/a.git", "https://git.example.com/a.git", "bot", "p@ss"),
    ("https://TOKEN123@git.example.com/a.git", "https://git.example.com/a.git", "TOKEN123", None),
    ("ssh://git:PASSWORD1@git.example.com/a.git", "ssh://git@git.example.com/a.git", "git", None),
    ("git@git.example.com:a.git", "git@git.example.com:a.git", None, None),
])
def test_split_url(url: str, clean: str, user: str | None, password: str | None) -> None:
    parsed = split_url(url)
    assert (parsed.url, parsed.user, parsed.password) == (clean, user, password)
    assert "PASSWORD1" not in repr(parsed) and "p@ss" not in repr(parsed)


def kubeconfig_with_client_key(kubeconfig: Path, tmp_path: Path) -> Path:
    config = json.loads(kubeconfig.read_text())
    config["users"][0]["user"].update({
        "client-certificate-data": base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIB\n").decode(),
        "client-key-data": base64.b64encode(b"-----BEGIN PRIVATE KEY-----\nSECRETKEY\n").decode()})
    path = tmp_path / "with-key.kubeconfig"
    path.write_text(json.dumps(config))
    return path


def agent_command(gitops: GitOpsRepo, kubeconfig: Path, tmp_path: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "updater", "agent", "--repo", gitops.url, "--path", "clusters/prod", "--name", "shop",
            "--token-env", "GIT_TOKEN", "--kubeconfig", str(kubeconfig), "--cache-dir", str(tmp_path / "cache"), *extra]


def agent_env(tmp: Path) -> dict[str, str]:
    tmp.mkdir(exist_ok=True)
    return {**os.environ, "GIT_TOKEN": TOKEN, "TMPDIR": str(tmp), "PYTHONPATH": str(ROOT)}


def test_client_key_material_is_removed_after_a_run(kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo,
                                                    tmp_path: Path) -> None:
    agent_namespace(kube_api)
    tmp = tmp_path / "tmp"
    done = subprocess.run(agent_command(gitops, kubeconfig_with_client_key(kubeconfig, tmp_path), tmp_path, "--once"),
                          env=agent_env(tmp), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert list(tmp.iterdir()) == []


def test_client_key_material_is_private_and_removed_on_sigterm(kube_api: KubeApiServer, kubeconfig: Path,
                                                               gitops: GitOpsRepo, tmp_path: Path) -> None:
    agent_namespace(kube_api)
    tmp = tmp_path / "tmp"
    process = subprocess.Popen(agent_command(gitops, kubeconfig_with_client_key(kubeconfig, tmp_path), tmp_path,
                                             "--interval", "1s"),
                               env=agent_env(tmp), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not list(tmp.glob("updater-kube-*/client.key")) and time.monotonic() < deadline:
            time.sleep(0.1)
        (key,) = tmp.glob("updater-kube-*/client.key")
        assert key.parent.stat().st_mode & 0o777 == 0o700 and key.stat().st_mode & 0o777 == 0o600
        while image_of(kube_api) is None and time.monotonic() < deadline:  # the loop is running
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert list(tmp.iterdir()) == []
    assert "SECRETKEY" not in (process.stderr.read() if process.stderr else "")
