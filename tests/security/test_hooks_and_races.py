"""Class 10 of issue 11: no user hook runs inside updater's clone (even with a global core.hooksPath),
and a file changed between plan and write is its own documented outcome (exit 9), not "a bug"."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.gitrepos import git, make_remote
from tests.security.helpers import DEPLOYMENT, run_cli, write_tree
from updater import kustomize
from updater.errors import ExitCode

HOOKS = ("post-checkout", "pre-commit", "commit-msg", "post-commit", "pre-push", "reference-transaction",
         "post-merge", "post-rewrite")


def test_a_global_hooks_path_runs_no_hook_in_our_clone(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    remote = make_remote(tmp_path, {"deploy.yaml": DEPLOYMENT})
    hooks, ran = tmp_path / "hooks", tmp_path / "ran"
    hooks.mkdir()
    ran.mkdir()
    for name in HOOKS:
        script = hooks / name
        # reads stdin (pre-push feeds it); records where it ran
        script.write_text(f"#!/bin/sh\ncat > /dev/null\necho \"$PWD\" >> {ran}/{name}\n")
        script.chmod(0o755)
    config = tmp_path / "global.gitconfig"
    config.write_text(f"[core]\n\thooksPath = {hooks}\n[user]\n\tname = Dev\n\temail = dev@example.com\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GITHUB_TOKEN", "GITLAB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    probe = {"GIT_CONFIG_GLOBAL": str(config)}  # the hooks are live for any other git run
    git("init", "-q", str(tmp_path / "probe"), cwd=tmp_path, env=probe)
    git("-C", str(tmp_path / "probe"), "commit", "-q", "--allow-empty", "-m", "probe", cwd=tmp_path, env=probe)
    assert (ran / "post-commit").exists()
    for leftover in ran.iterdir():
        leftover.unlink()

    run = run_cli(capsys, "bump", "--repo", str(remote), "--mode", "push", "--image", "ghcr.io/acme/api:1.4.2")
    assert run.code == ExitCode.OK, run.err
    assert "1.4.2" in git("show", "main:deploy.yaml", cwd=remote)
    # A file:// remote is a repository on this machine: its receive-pack runs the remote's hooks
    # (the global config is the remote's config too), which is the remote's business, not ours.
    ran_in = {(p.name, line) for p in ran.iterdir() for line in p.read_text().splitlines()}
    assert {(hook, where) for hook, where in ran_in if Path(where).resolve() != remote.resolve()} == set()


def test_a_file_changed_between_plan_and_write_is_exit_9(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    tree = write_tree(tmp_path / "tree", {"app/deploy.yaml": DEPLOYMENT,
                                          "app/kustomization.yaml": "resources: [deploy.yaml]\n"})
    concurrent = DEPLOYMENT.replace("1.4.1", "1.4.9")
    # A real process edits the file while updater validates the plan: this "kustomize" is that process.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "kustomize"
    fake.write_text(f"#!/bin/sh\nprintf '%s' '{concurrent}' > {tree}/app/deploy.yaml\necho 'kind: List'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    kustomize.kustomize_command.cache_clear()
    try:
        run = run_cli(capsys, "bump", "--dir", str(tree), "--image", "ghcr.io/acme/api:1.4.2")
    finally:
        kustomize.kustomize_command.cache_clear()
    assert run.code == int(ExitCode.CHANGED_UNDER_US) == 9, run.err
    assert run.err.strip().splitlines()[-1] == ("updater: error: app/deploy.yaml changed while updater was planning "
                                                "the edit; nothing was written, run again")
    assert "Traceback" not in run.err
    assert (tree / "app/deploy.yaml").read_text() == concurrent


def test_readme_documents_exit_9() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert "| 9 | a file changed" in readme


def test_the_agents_git_runs_no_hook_of_a_global_hooks_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from updater.agent.source import Source

    remote = make_remote(tmp_path, {"deploy.yaml": DEPLOYMENT})
    hooks, ran = tmp_path / "hooks", tmp_path / "ran"
    hooks.mkdir()
    ran.mkdir()
    for name in ("post-checkout", "reference-transaction", "post-merge"):
        (hooks / name).write_text(f"#!/bin/sh\ncat > /dev/null\necho \"$PWD\" >> {ran}/{name}\n")
        (hooks / name).chmod(0o755)
    config = tmp_path / "global.gitconfig"
    config.write_text(f"[core]\n\thooksPath = {hooks}\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    source = Source(str(remote), "main", cache_dir=tmp_path / "cache")
    checkout = source.checkout(source.tip())
    assert (checkout / "deploy.yaml").read_text() == DEPLOYMENT
    assert sorted(p.name for p in ran.iterdir()) == []  # post-checkout would have run without the fix
