"""`updater agent` through the CLI edge: --once, --dry-run exit codes and diffs, bad input, config files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.agent.conftest import TOKEN, GitOpsRepo, agent_namespace, deployment, image_of
from updater.cli import main
from updater_sandbox.kube.server import KubeApiServer


def args(gitops: GitOpsRepo, kubeconfig: Path, tmp_path: Path, *extra: str) -> list[str]:
    return ["agent", "--repo", gitops.url, "--path", "clusters/prod", "--name", "shop", "--token-env", "GIT_TOKEN",
            "--kubeconfig", str(kubeconfig), "--cache-dir", str(tmp_path / "cache"), *extra]


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_TOKEN", TOKEN)


def test_dry_run_exits_8_with_a_diff_then_0_once_applied(kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo,
                                                         tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    agent_namespace(kube_api)
    assert main(args(gitops, kubeconfig, tmp_path, "--once", "--dry-run")) == 8
    out, err = capsys.readouterr()
    assert "# create Deployment.apps shop/api (app shop)" in out and "+      - image: ghcr.io/acme/api:1.0.0" in out
    assert "out of sync: shop" in err and TOKEN not in out + err
    assert image_of(kube_api) is None  # nothing applied

    assert main(args(gitops, kubeconfig, tmp_path, "--once")) == 0
    assert image_of(kube_api) == "ghcr.io/acme/api:1.0.0"
    capsys.readouterr()
    assert main(args(gitops, kubeconfig, tmp_path, "--dry-run")) == 0
    assert capsys.readouterr().out == ""

    gitops.commit({"clusters/prod/api/deployment.yaml": deployment("ghcr.io/acme/api:2.0.0")}, "bump")
    assert main(args(gitops, kubeconfig, tmp_path, "--dry-run")) == 8
    out = capsys.readouterr().out
    changed = [line for line in out.splitlines() if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert changed == ["-      - image: ghcr.io/acme/api:1.0.0", "+      - image: ghcr.io/acme/api:2.0.0"]
    assert image_of(kube_api) == "ghcr.io/acme/api:1.0.0"


def test_broken_render_with_once_exits_5_and_applies_nothing(kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo,
                                                             tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    agent_namespace(kube_api)
    gitops.commit({"clusters/prod/zz.yaml": "a: [\n"}, "broken")
    assert main(args(gitops, kubeconfig, tmp_path, "--once")) == 5
    assert "clusters/prod/zz.yaml: not valid YAML" in capsys.readouterr().err
    assert image_of(kube_api) is None


def test_wrong_token_exits_6_without_printing_it(kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo,
                                                 tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    agent_namespace(kube_api)
    monkeypatch.setenv("GIT_TOKEN", "not-the-token-777")
    assert main(args(gitops, kubeconfig, tmp_path, "--once")) == 6
    assert "not-the-token-777" not in capsys.readouterr().err


@pytest.mark.parametrize(("extra", "message"), [
    (["--interval", "soon"], "--interval: 'soon' is not a duration"),
    (["--context", "nope"], "no context named 'nope'"),
    (["--token-env", "UNSET_VAR_X"], "UNSET_VAR_X is empty or not set"),
])
def test_bad_input_exits_2_naming_the_flag(kubeconfig: Path, gitops: GitOpsRepo, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str], extra: list[str], message: str) -> None:
    assert main([*args(gitops, kubeconfig, tmp_path, "--once"), *extra]) == 2
    assert message in capsys.readouterr().err


def test_missing_kubeconfig_is_bad_input(gitops: GitOpsRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args(gitops, tmp_path / "nope", tmp_path, "--once")) == 2
    assert "kubeconfig" in capsys.readouterr().err


def test_config_file_with_two_apps(kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo, tmp_path: Path) -> None:
    agent_namespace(kube_api)
    gitops.commit({"other/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: default}\n"}, "other")
    config = tmp_path / "agent.yml"
    config.write_text(f"apps:\n- {{name: shop, repo: '{gitops.url}', path: clusters/prod, token_env: GIT_TOKEN}}\n"
                      f"- {{name: misc, repo: '{gitops.url}', path: other, token_env: GIT_TOKEN}}\n")
    assert main(["agent", "--config", str(config), "--kubeconfig", str(kubeconfig), "--cache-dir", str(tmp_path / "c"),
                 "--once"]) == 0
    assert image_of(kube_api) == "ghcr.io/acme/api:1.0.0"
    other = kube_api.get("v1", "ConfigMap", "other", "default")
    assert other is not None and other["metadata"]["labels"]["updater.dev/app"] == "misc"


def test_an_object_the_api_rejects_makes_once_exit_7(kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo,
                                                     tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    agent_namespace(kube_api)
    svc = "apiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: shop}\nspec:\n  clusterIP: %s\n  ports: [{port: 80}]\n"
    gitops.commit({"clusters/prod/svc.yaml": svc % "10.0.0.10"}, "service")
    assert main(args(gitops, kubeconfig, tmp_path, "--once")) == 0
    gitops.commit({"clusters/prod/svc.yaml": svc % "10.0.0.11"}, "new ip")
    assert main(args(gitops, kubeconfig, tmp_path, "--once")) == 7
    assert "Service shop/api: an immutable field changed" in capsys.readouterr().err


def test_checkouts_go_to_the_user_cache_not_the_current_directory(kube_api: KubeApiServer, kubeconfig: Path,
                                                                  gitops: GitOpsRepo, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    agent_namespace(kube_api)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path / "work")
    argv = [a for a in args(gitops, kubeconfig, tmp_path, "--once") if a not in ("--cache-dir", str(tmp_path / "cache"))]
    assert main(argv) == 0
    assert (tmp_path / "xdg" / "updater" / "agent" / "shop").is_dir()
    assert not (tmp_path / "work" / ".updater-agent-cache").exists()


def test_json_logs_carry_the_pass_summary_as_fields(kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo,
                                                    tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    agent_namespace(kube_api)
    assert main(["-v", *args(gitops, kubeconfig, tmp_path, "--once", "--log-format", "json")]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    (summary,) = [entry for entry in lines if "sync" in entry]
    assert summary["app"] == "shop" and summary["sync"] == "Synced" and summary["applied"] == 3
    assert summary["level"] == "info" and summary["logger"] == "updater.agent" and len(summary["commit"]) == 40
    assert all(TOKEN not in json.dumps(entry) for entry in lines)


def test_dry_run_reports_drift_as_out_of_sync(kube_api: KubeApiServer, kubeconfig: Path, gitops: GitOpsRepo,
                                              tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    agent_namespace(kube_api)
    assert main(args(gitops, kubeconfig, tmp_path, "--once")) == 0
    edited = kube_api.get("v1", "ConfigMap", "settings", "shop")
    edited["data"]["mode"] = "slow"
    kube_api.put(edited, manager="kubectl-edit")
    capsys.readouterr()
    assert main(args(gitops, kubeconfig, tmp_path, "--dry-run")) == 8
    out = capsys.readouterr().out
    assert "# update ConfigMap shop/settings (app shop)" in out and "-  mode: slow\n+  mode: fast\n" in out
    assert kube_api.get("v1", "ConfigMap", "settings", "shop")["data"] == {"mode": "slow"}  # dry: nothing healed
