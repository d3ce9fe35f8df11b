"""`updater bump` without --repo, through the real CLI entry point: exit codes, output, no partial writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.bump.conftest import snapshot, tree, write  # noqa: F401 (tree: a fixture)
from updater.cli import main
from updater.errors import ExitCode


def bump(tree: Path, *args: str) -> int:
    return main(["bump", "--dir", str(tree), *args])


def test_bump_prints_a_diff_and_writes(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert bump(tree, "--image", "ghcr.io/acme/api:1.4.2") == ExitCode.OK
    out, err = capsys.readouterr()
    assert out.startswith("--- a/apps/api/base/deployment.yaml\n+++ b/apps/api/base/deployment.yaml\n")
    assert "-        image: ghcr.io/acme/api:1.4.1\n+        image: ghcr.io/acme/api:1.4.2\n" in out
    assert "bumped 1 reference(s) in 1 file(s)" in err
    assert b"ghcr.io/acme/api:1.4.2" in (tree / "apps/api/base/deployment.yaml").read_bytes()


def test_dry_run_json_writes_nothing(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(tree)
    assert bump(tree, "--image", "ghcr.io/acme/api:1.4.2", "--dry-run", "--json") == ExitCode.OK
    report = json.loads(capsys.readouterr().out)
    assert snapshot(tree) == before
    assert report["changed"] is True and report["dry_run"] is True and report["outcome"] == "changed"
    assert report["changed_files"] == ["apps/api/base/deployment.yaml"]
    assert report["changes"] == [{
        "path": "apps/api/base/deployment.yaml", "file": "apps/api/base/deployment.yaml", "line": 14,
        "kind": "container", "image": "ghcr.io/acme/api", "old": "ghcr.io/acme/api:1.4.1", "new": "ghcr.io/acme/api:1.4.2",
    }]


def test_already_current_exits_0_and_says_so(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert bump(tree, "--image", "ghcr.io/acme/api:1.4.1") == ExitCode.OK
    out, err = capsys.readouterr()
    assert out == "" and "already current: ghcr.io/acme/api" in err


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--image", "ghcr.io/acme/API:1"], ExitCode.BAD_INPUT, "--image 'ghcr.io/acme/API:1': invalid repository name"),
        (["--image", "ghcr.io/acme/api"], ExitCode.BAD_INPUT, "no tag or digest"),
        (["--image", "ghcr.io/acme/api:1.4.2", "--path", "../**"], ExitCode.BAD_INPUT, "--path '../**'"),
        (["--image", "ghcr.io/acme/nothing:1"], ExitCode.NOT_FOUND, "no reference to ghcr.io/acme/nothing found"),
        (["--image", "ghcr.io/acme/api:1.4.0"], ExitCode.REFUSED, "refusing to downgrade"),
    ],
)
def test_user_errors_are_one_line_with_their_exit_code_and_write_nothing(
    tree: Path, capsys: pytest.CaptureFixture[str], args: list[str], code: int, says: str
) -> None:
    write(tree, {"apps/api/other.yaml": "containers:\n- image: ghcr.io/acme/api:1.0.0\n"})
    before = snapshot(tree)
    assert bump(tree, *args) == code
    out, err = capsys.readouterr()
    assert says in err and err.count("\n") == 1 and "Traceback" not in err
    assert out == ""
    assert snapshot(tree) == before


def test_missing_dir_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert bump(tmp_path / "nope", "--image", "a/b:1") == ExitCode.BAD_INPUT
    assert "--dir" in capsys.readouterr().err


def test_allow_missing_and_allow_downgrade(tree: Path) -> None:
    assert bump(tree, "--image", "ghcr.io/acme/nothing:1", "--allow-missing") == ExitCode.OK
    assert bump(tree, "--image", "ghcr.io/acme/api:1.4.0", "--allow-downgrade") == ExitCode.OK
    assert b"ghcr.io/acme/api:1.4.0" in (tree / "apps/api/base/deployment.yaml").read_bytes()


def test_broken_kustomize_exits_5_and_writes_nothing(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tree, {
        "apps/api/overlays/prod/kustomization.yaml": (
            "resources:\n- ../../base\npatches:\n- target: {kind: Deployment}\n  patch: |-\n    - op: test\n"
            "      path: /spec/template/spec/containers/0/image\n      value: ghcr.io/acme/api:1.4.1\n"),
        "apps/web/pod.yaml": "kind: Pod\nspec:\n  containers:\n  - image: ghcr.io/acme/api:1.4.1\n",
    })
    before = snapshot(tree)
    assert bump(tree, "--image", "ghcr.io/acme/api:1.4.2") == ExitCode.INVALID_RESULT
    err = capsys.readouterr().err
    assert "updater: error: the edit would break kustomize build of apps/api/overlays/prod: testing value" in err
    assert err.count("updater: error") == 1 and "Traceback" not in err
    assert snapshot(tree) == before
    # --no-validate is the escape hatch
    assert bump(tree, "--image", "ghcr.io/acme/api:1.4.2", "--no-validate") == ExitCode.OK
    assert snapshot(tree) != before


def test_warnings_go_to_stderr(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tree, {"chart/templates/d.yaml": "{{- if .Values.x }}\nimage: ghcr.io/acme/api:1\n{{- end }}\n"})
    assert bump(tree, "--image", "ghcr.io/acme/api:1.4.2") == ExitCode.OK
    assert "warning: chart/templates/d.yaml: skipped, not valid YAML" in capsys.readouterr().err


def test_a_local_bump_does_not_import_git_or_forge_clients(tree: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from updater.cli import main\n"
        f"assert main(['bump', '--dir', {str(tree)!r}, '--image', 'ghcr.io/acme/none:1', '--allow-missing']) == 0\n"
        f"assert main(['bump', '--dir', {str(tree)!r}, '--image', 'ghcr.io/acme/api:1.4.2', '--dry-run']) == 0\n"
        "print([m for m in ('github', 'gitlab', 'git', 'requests') if m in sys.modules])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().endswith("[]")


def test_commit_options_in_local_mode_are_named_as_unused(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # local mode makes no commit: --sign / --commit-via api used to be silently ignored
    assert bump(tree, "--image", "ghcr.io/acme/api:1.4.2", "--sign", "ssh", "--commit-via", "api") == ExitCode.OK
    err = capsys.readouterr().err
    assert "warning: local mode (no --repo) makes no commit: --sign / sign: and --commit-via api" in err
    assert b"ghcr.io/acme/api:1.4.2" in (tree / "apps/api/base/deployment.yaml").read_bytes()
    assert bump(tree, "--image", "ghcr.io/acme/api:1.4.3") == ExitCode.OK
    assert "makes no commit" not in capsys.readouterr().err
