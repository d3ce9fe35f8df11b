"""Issue 11, class 9 (agent side): the operator's mistakes are exit 2 with one line, not a traceback.

`--kubeconfig` pointing at something that is not a kubeconfig, `--listen` with a bad port, and
wrong types in the agent config ended in a traceback and exit 1."""

from __future__ import annotations

import base64
import json
import socket
from pathlib import Path

import pytest

from tests.agent.conftest import TOKEN, GitOpsRepo, gitops  # noqa: F401 (fixture)
from updater.cli import main


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_TOKEN", TOKEN)


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def base_args(tmp_path: Path, kubeconfig: Path, repo: str = "http://127.0.0.1:9/x.git") -> list[str]:
    return ["agent", "--repo", repo, "--path", "clusters/prod", "--name", "shop", "--kubeconfig", str(kubeconfig),
            "--cache-dir", str(tmp_path / "cache")]


def broken_kubeconfig(kubeconfig: Path, change: str) -> str:
    config = json.loads(kubeconfig.read_text())
    if change == "contexts-string":
        config["contexts"] = "sandbox"
    elif change == "context-list":
        config["contexts"][0]["context"] = ["x"]
    elif change == "server-number":
        config["clusters"][0]["cluster"]["server"] = 8080
    elif change == "bad-base64":
        config["clusters"][0]["cluster"]["certificate-authority-data"] = "not base64!"
    elif change == "token-file-missing":
        config["users"][0]["user"]["tokenFile"] = "/nonexistent/token"
    elif change == "current-context-list":
        config["current-context"] = ["sandbox"]
    return json.dumps(config)


@pytest.mark.parametrize(("text", "message"), [
    ("- just\n- a list\n", "not a kubeconfig"),
    ("hello\n", "not a kubeconfig"),
    ("\x00\x01binary", "cannot read it"),
])
def test_a_file_that_is_not_a_kubeconfig_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str,
                                                 message: str) -> None:
    path = tmp_path / "not-a-kubeconfig"
    path.write_text(text)
    assert main([*base_args(tmp_path, path), "--once"]) == 2
    err = one_line(capsys)
    assert f"kubeconfig {path}" in err and message in err


@pytest.mark.parametrize(("change", "message"), [
    ("contexts-string", "contexts must be a list"),
    ("context-list", "context 'sandbox' must be a mapping"),
    ("server-number", "server must be a string"),
    ("bad-base64", "ca.crt data is not base64"),
    ("token-file-missing", "tokenFile /nonexistent/token: cannot read it"),
    ("current-context-list", "current-context must be a string"),
])
def test_a_kubeconfig_with_wrong_shapes_exits_2(kubeconfig: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                change: str, message: str) -> None:
    path = tmp_path / "broken.kubeconfig"
    path.write_text(broken_kubeconfig(kubeconfig, change))
    assert main([*base_args(tmp_path, path), "--once"]) == 2
    err = one_line(capsys)
    assert f"kubeconfig {path}" in err and message in err


@pytest.mark.parametrize("listen", [":abc", "127.0.0.1:70000", "8080", "127.0.0.1:-1", "127.0.0.1:٣"])
def test_a_bad_listen_address_exits_2(kubeconfig: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      listen: str) -> None:
    assert main([*base_args(tmp_path, kubeconfig), "--listen", listen]) == 2
    assert "--listen" in one_line(capsys)


def test_a_busy_listen_port_exits_2(kubeconfig: Path, gitops: GitOpsRepo, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main([*base_args(tmp_path, kubeconfig, gitops.url), "--token-env", "GIT_TOKEN",
                     "--listen", f"127.0.0.1:{port}"]) == 2
    assert f"--listen 127.0.0.1:{port}: cannot listen there" in one_line(capsys)


@pytest.mark.parametrize(("config", "message"), [
    ("apps: [{repo: x, branch: [main]}]\n", "apps[0]: branch must be a string"),
    ("apps: [{repo: x, path: {a: b}}]\n", "apps[0]: path must be a string"),
    ("apps: [{repo: 5}]\n", "apps[0]: repo must be a string"),
    ("apps: [{repo: x, allowed_namespaces: shop}]\n", "apps[0]: allowed_namespaces must be a list"),
    ("apps: [{repo: x, allowed_cluster_kinds: [1]}]\n", "apps[0]: allowed_cluster_kinds must be a list"),
    ("apps: [{repo: x, allowed_namespaces: [Shop_1]}]\n", "'Shop_1' is not a namespace name"),
    ("apps: [{repo: x, kustomize_remote: 'yes'}]\n", "apps[0]: kustomize_remote must be true or false"),
    ("apps: [{repo: x}]\ncache_dir: 5\n", "cache_dir must be a string"),
    ("apps: [{repo: x}]\nstatus: github\n", "status must be a mapping"),
    ("apps: [{repo: x}]\nleader_elect: 'no'\n", "leader_elect must be true or false"),
    ("apps: [{repo: x}]\nlease_duration: [15]\n", "lease_duration must be a duration"),
    ("apps: [{repo: x}]\nlisten: 'localhost:http'\n", "listen 'localhost:http': expected HOST:PORT"),
])
def test_wrong_types_in_the_agent_config_exit_2_naming_the_key(kubeconfig: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str], config: str,
                                                               message: str) -> None:
    path = tmp_path / "agent.yml"
    path.write_text(config)
    assert main(["agent", "--config", str(path), "--kubeconfig", str(kubeconfig), "--once"]) == 2
    err = one_line(capsys)
    assert f"--config {path}" in err and message in err


def test_kubeconfig_data_with_line_breaks_still_loads(kubeconfig: Path, tmp_path: Path) -> None:
    """Wrapped base64 (as some tools write it) is fine: only non-base64 is refused."""
    from updater.agent.kubeconfig import load_config, remove_key_material

    config = json.loads(kubeconfig.read_text())
    data = base64.b64encode(b"-----BEGIN CERTIFICATE-----\n" + b"A" * 100).decode()
    config["clusters"][0]["cluster"]["certificate-authority-data"] = "\n".join(data[i:i + 64] for i in range(0, len(data), 64))
    path = tmp_path / "wrapped"
    path.write_text(json.dumps(config))
    loaded = load_config(kubeconfig=path, context=None, env={})
    try:
        assert isinstance(loaded.verify, str) and Path(loaded.verify).read_bytes().startswith(b"-----BEGIN")
    finally:
        remove_key_material()
    assert not Path(loaded.verify).exists()
