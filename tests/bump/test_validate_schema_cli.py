"""Schema validation through the real CLI: push mode against a real git remote refuses an edit that
makes an object invalid (exit 5, the remote's ref unchanged), --no-schema-validation lets it through,
an unknown --kube-version is exit 2 before anything is cloned, and validation needs no network."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.bump.conftest import DEPLOY
from tests.bump.test_validate_schema import MISPLACED_MARKER
from tests.gitrepos import git, make_remote, read_blob
from tests.landing.push_helpers import ROOT, cli_env, run_bump
from tests.landing.pr_support import PROVIDERS, REPO, open_pulls, settings
from updater.errors import ExitCode, ValidationFailed
from updater.landing.pr import bump_pr
from updater_sandbox.forge import Forge

# Every connection attempt of the CLI process fails (and says so), and a proxy a library might pick
# up points at a closed port: a run that passes did not touch the network.
NO_NETWORK = """
import sys
def hook(event, args):
    if event in ("socket.connect", "socket.getaddrinfo", "urllib.Request"):
        raise RuntimeError(f"network use during validation: {event} {args!r}")
sys.addaudithook(hook)
from updater.cli import main
raise SystemExit(main(sys.argv[1:]))
"""
CLOSED = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
          "http_proxy": "http://127.0.0.1:9", "NO_PROXY": "", "no_proxy": ""}


def remote(tmp_path: Path, deployment: str) -> Path:
    return make_remote(tmp_path / "srv", {
        "apps/api/base/deployment.yaml": textwrap.dedent(deployment).lstrip("\n"),
        "apps/api/base/kustomization.yaml": "resources:\n- deployment.yaml\n",
    })


def test_push_mode_refuses_an_invalid_result_exit_5_and_the_remote_is_unchanged(tmp_path: Path) -> None:
    bare = remote(tmp_path, MISPLACED_MARKER)
    tip = git("rev-parse", "refs/heads/main", cwd=bare)
    done = run_bump(bare.as_uri(), "ghcr.io/acme/api:1.4.2", env=cli_env(tmp_path), extra=["--kube-version", "1.33"])
    assert done.returncode == ExitCode.INVALID_RESULT, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("updater: error:")]
    assert errors == ["updater: error: the edit breaks the Kubernetes 1.33 schema: apps/api/base/deployment.yaml: "
                      "Deployment api: spec.replicas: '1.4.2' is not of type 'integer', 'null'; nothing was written "
                      "(fix the manifest, choose --kube-version, or --no-schema-validation)"]
    assert git("rev-parse", "refs/heads/main", cwd=bare) == tip
    assert git("for-each-ref", "--format=%(refname)", cwd=bare) == "refs/heads/main"


def test_no_schema_validation_lets_the_same_edit_through(tmp_path: Path) -> None:
    bare = remote(tmp_path, MISPLACED_MARKER)
    tip = git("rev-parse", "refs/heads/main", cwd=bare)
    done = run_bump(bare.as_uri(), "ghcr.io/acme/api:1.4.2", env=cli_env(tmp_path), extra=["--no-schema-validation"])
    assert done.returncode == ExitCode.OK, done.stderr
    assert git("rev-parse", "refs/heads/main", cwd=bare) != tip
    assert "replicas: 1.4.2  # updater:tag" in read_blob(bare, "main", "apps/api/base/deployment.yaml")


def test_unknown_kube_version_is_exit_2_naming_the_flag_before_any_clone(tmp_path: Path) -> None:
    missing = (tmp_path / "nowhere.git").as_uri()  # never cloned: the flag is checked first
    done = run_bump(missing, "ghcr.io/acme/api:1.4.2", env=cli_env(tmp_path), extra=["--kube-version", "1.19"])
    assert done.returncode == ExitCode.BAD_INPUT, done.stderr
    assert "updater: error: --kube-version 1.19: no Kubernetes schemas bundled for it; give one of 1.25, " in done.stderr
    assert "nowhere.git" not in done.stderr


def test_validation_is_offline(tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / "apps").mkdir(parents=True)
    (work / "apps/deploy.yaml").write_text(textwrap.dedent(DEPLOY))  # a plain file, validated on its own
    (work / "apps/bad.yaml").write_text(textwrap.dedent(MISPLACED_MARKER))
    argv = [sys.executable, "-c", NO_NETWORK, "-v", "bump", "--dir", str(work), "--image", "ghcr.io/acme/api:1.4.2"]
    env = cli_env(tmp_path, CLOSED)
    done = subprocess.run([*argv, "--path", "apps/deploy.yaml"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == ExitCode.OK, done.stderr
    assert "schema: 1 object(s) checked against Kubernetes" in done.stderr
    refused = subprocess.run([*argv, "--path", "apps/bad.yaml"], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=60)
    assert refused.returncode == ExitCode.INVALID_RESULT, refused.stderr
    assert "network use" not in refused.stderr and "spec.replicas" in refused.stderr


def test_the_validator_is_imported_only_by_a_run_that_validates_schemas(tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / "apps").mkdir(parents=True)
    (work / "apps/deploy.yaml").write_text(textwrap.dedent(DEPLOY))
    probe = ("import sys; from updater.cli import main; code = main(sys.argv[1:]); "
             "print(code, sorted({m.split('.')[0] for m in sys.modules} & {'kubernetes_validate', 'jsonschema'}))")
    bump = ["bump", "--dir", str(work), "--image", "ghcr.io/acme/api:1.4.2", "--dry-run"]
    runs = {flag: subprocess.run([sys.executable, "-c", probe, *bump, *flag], cwd=ROOT, env=cli_env(tmp_path),
                                 capture_output=True, text=True, timeout=60).stdout.splitlines()[-1]
            for flag in ((), ("--no-schema-validation",), ("--no-validate",))}
    assert runs == {(): "0 ['jsonschema', 'kubernetes_validate']", ("--no-schema-validation",): "0 []",
                    ("--no-validate",): "0 []"}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_pull_request_mode_refuses_it_too_and_opens_nothing(forge: Forge, provider: str) -> None:
    forge.create_repo(REPO, {"apps/api/deployment.yaml": textwrap.dedent(MISPLACED_MARKER).lstrip("\n")})
    branches = forge.repo(REPO).bare.branches()
    with pytest.raises(ValidationFailed, match=r"Kubernetes 1.30 schema: apps/api/deployment.yaml: Deployment api: "
                                               r"spec.replicas: '1.4.2' is not of type 'integer'"):
        bump_pr(settings(forge, provider, "--image", "ghcr.io/acme/api:1.4.2", "--kube-version", "1.30"))
    assert forge.repo(REPO).bare.branches() == branches
    assert open_pulls(forge) == []
