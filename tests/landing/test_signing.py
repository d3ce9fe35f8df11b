"""`--sign ssh|gpg` against the local forge's signed-commit rules (GitHub's required signatures on
a protected branch, GitLab's push rule `reject_unsigned_commits`), with real `updater bump`
processes, real git, ssh-keygen and gpg. The forge verifies with `git verify-commit` against the
keys registered through its REST API, as the services do."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.landing.pr_support import api_url
from tests.landing.push_helpers import ROOT, cli_env, deployment, run_bump, start_bump
from tests.landing.test_push_races import wait_all
from tests.sandbox.forgehelp import wait_for
from tests.signkeys import GpgPair, SshPair, gpg_pair, ssh_pair
from updater_sandbox import faults
from updater_sandbox.forge import Forge
from updater_sandbox.state import Protection
from updater_sandbox.web import LoggedRequest

REPO = "acme/gitops"
APPS = [f"app{i}" for i in range(8)]
FAST = ["--retry-wait", "0.05", "--retry-wait-max", "1"]


def _repo(forge: Forge, *, hook_style: str = "github") -> None:
    files = {f"apps/{app}/deploy.yaml": deployment(app, f"ghcr.io/acme/{app}:1.0.0") for app in APPS}
    forge.create_repo(REPO, files, hook_style=hook_style)
    if hook_style == "github":  # direct pushes allowed, signatures required (GitHub's REST API)
        forge.protect(REPO, "main", Protection(allow_direct_push=True))
        answer = requests.post(f"{forge.github_api_url}/repos/{REPO}/branches/main/protection/required_signatures",
                               headers={"Authorization": f"token {forge.token}"}, timeout=10)
    else:
        answer = requests.put(f"{forge.url}/api/v4/projects/acme%2Fgitops/push_rule", timeout=10,
                              headers={"PRIVATE-TOKEN": forge.token}, json={"reject_unsigned_commits": True})
    assert answer.ok, answer.text


def _register_ssh(forge: Forge, key: SshPair) -> None:
    answer = requests.post(f"{forge.github_api_url}/user/ssh_signing_keys", json={"title": "updater", "key": key.public},
                           headers={"Authorization": f"token {forge.token}"}, timeout=10)
    assert answer.status_code == 201, answer.text


def _env(tmp_path: Path, forge: Forge, key: str | None = None, *, var: str = "UPDATER_SIGNING_KEY",
         token: str = "GITHUB_TOKEN") -> dict[str, str]:
    return cli_env(tmp_path, {token: forge.token, **({var: key} if key is not None else {})})


def _tip(forge: Forge) -> str | None:
    return forge.repo(REPO).bare.rev_parse("main")


def test_an_unsigned_bump_is_refused_in_githubs_words_with_exit_4(forge: Forge, tmp_path: Path) -> None:
    _repo(forge)
    before = _tip(forge)
    run = run_bump(forge.repo_url(REPO), "ghcr.io/acme/app1:1.1.0", env=_env(tmp_path, forge), extra=FAST)
    assert run.returncode == 4, run.stderr
    assert "error: Commits must have verified signatures." in run.stderr
    assert "--sign ssh|gpg" in run.stderr and "UPDATER_SIGNING_KEY" in run.stderr
    assert _tip(forge) == before


def test_sign_ssh_lands_verified_on_github_in_push_mode(forge: Forge, tmp_path: Path) -> None:
    _repo(forge)
    key = ssh_pair(tmp_path / "keys")
    _register_ssh(forge, key)
    run = run_bump(forge.repo_url(REPO), "ghcr.io/acme/app1:1.1.0", env=_env(tmp_path, forge, key.private),
                   extra=["--sign", "ssh", "--json", *FAST])
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["commit_sha"] == _tip(forge)
    assert forge.verified(REPO, "main")


def test_sign_gpg_lands_verified_on_github(forge: Forge, tmp_path: Path) -> None:
    _repo(forge)
    pair: GpgPair = gpg_pair(tmp_path / "gpg")
    answer = requests.post(f"{forge.github_api_url}/user/gpg_keys", json={"armored_public_key": pair.public},
                           headers={"Authorization": f"token {forge.token}"}, timeout=10)
    assert answer.status_code == 201
    homes_before = set(Path("/tmp").glob("updater-gpg-*"))  # a deep TMPDIR puts GNUPGHOME there (socket length)
    run = run_bump(forge.repo_url(REPO), "ghcr.io/acme/app2:1.1.0", env=_env(tmp_path, forge, pair.secret),
                   extra=["--sign", "gpg", *FAST])
    assert run.returncode == 0, run.stderr
    assert forge.verified(REPO, "main")
    assert list((tmp_path / "cli-tmp").iterdir()) == []  # clone, key and GNUPGHOME gone
    assert set(Path("/tmp").glob("updater-gpg-*")) <= homes_before
    assert not any(line in run.stdout + run.stderr for line in pair.secret.splitlines()[2:-2] if len(line) > 20)


@pytest.mark.parametrize("provider", ["github", "gitlab"])
def test_sign_ssh_in_pr_mode_signs_the_branch_commit(forge: Forge, tmp_path: Path, provider: str) -> None:
    """GitLab's push rule covers every branch, so the merge request's branch push is checked too;
    the key reaches updater the way a GitLab file variable gives it (the variable holds a path)."""
    _repo(forge, hook_style=provider)
    key = ssh_pair(tmp_path / "keys")
    if provider == "github":
        _register_ssh(forge, key)
        value = key.private
    else:
        added = requests.post(f"{forge.url}/api/v4/user/keys", headers={"PRIVATE-TOKEN": forge.token}, timeout=10,
                              json={"title": "updater", "key": key.public, "usage_type": "signing"})
        assert added.status_code == 201
        value = str(key.path)  # a File-type CI/CD variable
    token = "GITHUB_TOKEN" if provider == "github" else "GITLAB_TOKEN"
    run = run_bump(forge.repo_url(REPO), "ghcr.io/acme/app3:1.1.0", env=_env(tmp_path, forge, value, token=token),
                   extra=["--mode", "pr", "--provider", provider, "--api-url", api_url(forge, provider),
                          "--sign", "ssh", "--json", *FAST])
    assert run.returncode == 0, run.stderr
    [pull] = forge.repo(REPO).pulls.values()
    assert forge.verified(REPO, f"refs/heads/{pull.head}")


def test_unsigned_gitlab_merge_request_branch_is_refused_in_gitlabs_words(forge: Forge, tmp_path: Path) -> None:
    _repo(forge, hook_style="gitlab")
    run = run_bump(forge.repo_url(REPO), "ghcr.io/acme/app3:1.1.0", env=_env(tmp_path, forge, token="GITLAB_TOKEN"),
                   extra=["--mode", "pr", "--provider", "gitlab", "--api-url", forge.gitlab_api_url, *FAST])
    assert run.returncode == 4, run.stderr
    assert "GitLab: Commit must be signed with a GPG key" in run.stderr and "--sign" in run.stderr
    assert not forge.repo(REPO).pulls


def test_a_key_the_forge_does_not_know_is_refused(forge: Forge, tmp_path: Path) -> None:
    _repo(forge)
    _register_ssh(forge, ssh_pair(tmp_path / "registered"))
    stranger = ssh_pair(tmp_path / "stranger")
    before = _tip(forge)
    run = run_bump(forge.repo_url(REPO), "ghcr.io/acme/app1:1.1.0", env=_env(tmp_path, forge, stranger.private),
                   extra=["--sign", "ssh", *FAST])
    assert run.returncode == 4, run.stderr
    assert "Commits must have verified signatures" in run.stderr and "register its public key" in run.stderr
    assert _tip(forge) == before


@pytest.mark.parametrize(("sign", "value", "why"), [
    ("ssh", None, "$UPDATER_SIGNING_KEY is not set or empty"),
    ("ssh", "not a key at all", "does not hold a usable ssh private key"),
    ("gpg", "-----BEGIN PGP PRIVATE KEY BLOCK-----\nnope\n-----END PGP PRIVATE KEY BLOCK-----\n",
     "does not hold a usable OpenPGP secret key"),
])
def test_a_missing_or_unusable_key_is_exit_2_before_any_push(forge: Forge, tmp_path: Path, sign: str,
                                                            value: str | None, why: str) -> None:
    _repo(forge)
    before = _tip(forge)
    run = run_bump(forge.repo_url(REPO), "ghcr.io/acme/app1:1.1.0", env=_env(tmp_path, forge, value),
                   extra=["--sign", sign, *FAST])
    assert run.returncode == 2, run.stderr
    assert f"--sign {sign}" in run.stderr and why in run.stderr
    assert _tip(forge) == before
    assert forge.log_for("git") == []  # refused before the clone


def test_an_ssh_key_given_as_gpg_is_exit_2(forge: Forge, tmp_path: Path) -> None:
    _repo(forge)
    key = ssh_pair(tmp_path / "keys")
    run = run_bump(forge.repo_url(REPO), "ghcr.io/acme/app1:1.1.0", env=_env(tmp_path, forge, key.private,
                                                                              var="BOT_KEY"),
                   extra=["--sign", "gpg", "--signing-key-env", "BOT_KEY", *FAST])
    assert run.returncode == 2 and "$BOT_KEY does not hold a usable OpenPGP secret key" in run.stderr


def _files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and not p.is_socket()]


def test_the_key_is_in_no_file_of_the_clone_nor_in_output_or_logs(forge: Forge, tmp_path: Path) -> None:
    """During the push (seen from the forge's request log) the clone and its .git/config hold no key
    material; the one key file is 0600 in a 0700 directory; afterwards nothing is left, and the
    output (verbose log included) never shows the key."""
    _repo(forge)
    key = ssh_pair(tmp_path / "keys")
    _register_ssh(forge, key)
    secret_lines = [line for line in key.private.splitlines() if len(line) > 20]
    seen: list[str] = []
    tmp = tmp_path / "cli-tmp"

    def inspect(entry: LoggedRequest) -> None:
        # the push's ref advertisement: the commit is made, the clone is there until the push ends (git
        # sends the pack on the same connection, so it waits for this observer)
        if entry.service != "git" or "service=git-receive-pack" not in entry.path:
            return
        for path in _files_under(tmp):
            text = path.read_bytes().decode("utf-8", "replace")
            if path.parent.name.startswith("updater-sign-"):
                mode = stat.S_IMODE(path.stat().st_mode)
                dir_mode = stat.S_IMODE(path.parent.stat().st_mode)
                seen.append(f"keyfile {oct(mode)} {oct(dir_mode)}")
                continue
            if path.name == "config":
                assert "signingkey" not in text.lower() and "gpgsign" not in text.lower(), path
            assert not any(line in text for line in secret_lines), f"key material in {path}"
            seen.append(str(path.relative_to(tmp)))

    forge.observers.append(inspect)
    run = run_bump(forge.repo_url(REPO), "ghcr.io/acme/app1:1.1.0", env=_env(tmp_path, forge, key.private),
                   extra=["--sign", "ssh", *FAST], verbose=True)
    assert run.returncode == 0, run.stderr
    assert "keyfile 0o600 0o700" in seen and any(p.endswith(".git/config") for p in seen)
    assert not any(line in run.stdout + run.stderr for line in secret_lines)
    assert list(tmp.iterdir()) == []
    bare = forge.repo(REPO).bare.path
    assert not any(line in p.read_bytes().decode("latin-1") for p in _files_under(bare) for line in secret_lines)


def test_eight_concurrent_signed_bumps_all_land_signed(forge: Forge, tmp_path: Path) -> None:
    _repo(forge)
    key = ssh_pair(tmp_path / "keys")
    _register_ssh(forge, key)
    env = _env(tmp_path, forge, key.private)
    seed = _tip(forge)
    procs = [start_bump(forge.repo_url(REPO), f"ghcr.io/acme/{app}:1.1.0", env=env,
                        extra=["--sign", "ssh", "--retries", "60", "--retry-timeout", "200", "--retry-wait", "0.05",
                               "--retry-wait-max", "2"]) for app in APPS]
    results = wait_all(procs, timeout=240)
    assert [(code, err[-300:]) for code, _, err in results if code != 0] == []
    bare = forge.repo(REPO).bare
    commits = bare.git("rev-list", f"{seed}..main").out.split()
    assert len(commits) == len(APPS)
    assert all(forge.verified(REPO, sha) for sha in commits)
    for app in APPS:
        assert f"ghcr.io/acme/{app}:1.1.0" in bare.git("show", f"main:apps/{app}/deploy.yaml").out
    assert os.listdir(tmp_path / "cli-tmp") == []  # every run removed its clone and its key


def test_signed_pr_auto_merges_into_a_branch_that_requires_signatures(forge: Forge, tmp_path: Path) -> None:
    """GitHub blocks a pull request with unverified commits from merging: with --sign it merges."""
    files = {f"apps/{app}/deploy.yaml": deployment(app, f"ghcr.io/acme/{app}:1.0.0") for app in APPS}
    forge.create_repo(REPO, files)
    forge.protect(REPO, "main", Protection(required_signatures=True))  # pull requests only
    key = ssh_pair(tmp_path / "keys")
    _register_ssh(forge, key)
    run = run_bump(forge.repo_url(REPO), "ghcr.io/acme/app4:1.1.0", env=_env(tmp_path, forge, key.private),
                   extra=["--mode", "pr", "--provider", "github", "--api-url", forge.github_api_url, "--sign", "ssh",
                          "--auto-merge", *FAST])
    assert run.returncode == 0, run.stderr
    [pull] = forge.repo(REPO).pulls.values()
    assert wait_for(lambda: forge.pull(REPO, pull.number).merged or None, timeout=30)
    assert "ghcr.io/acme/app4:1.1.0" in forge.repo(REPO).bare.git("show", "main:apps/app4/deploy.yaml").out


def test_updater_rebase_signs_the_commits_it_makes_again(forge: Forge, tmp_path: Path) -> None:
    """A regenerated merge request branch is a new commit: GitLab's push rule checks it too."""
    _repo(forge, hook_style="gitlab")
    key = ssh_pair(tmp_path / "keys")
    env = _env(tmp_path, forge, key.private, token="GITLAB_TOKEN")
    forge_flags = ["--provider", "gitlab", "--api-url", forge.gitlab_api_url, *FAST]
    run = run_bump(forge.repo_url(REPO), "ghcr.io/acme/app5:1.1.0", env=env,
                   extra=["--mode", "pr", "--sign", "ssh", *forge_flags])
    assert run.returncode == 0, run.stderr
    [pull] = forge.repo(REPO).pulls.values()
    first = forge.repo(REPO).bare.rev_parse(pull.head)
    forge.commit(REPO, "main", {"README.md": "moved on\n"}, "base moves")
    rebase = [sys.executable, "-m", "updater", "rebase", "--repo", forge.repo_url(REPO), "--all", *forge_flags]
    unsigned = subprocess.run(rebase, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert unsigned.returncode == 4 and "Commit must be signed" in unsigned.stderr
    signed = subprocess.run([*rebase, "--sign", "ssh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert signed.returncode == 0, signed.stderr
    head = forge.repo(REPO).bare.rev_parse(pull.head)
    assert head is not None and head != first and forge.repo(REPO).bare.is_ancestor(forge.repo(REPO).bare.rev_parse("main") or "", head)
    assert forge.verified(REPO, head) is False  # GitLab only asks for a signature; the key is not registered
    assert "gpgsig" in forge.repo(REPO).bare.git("cat-file", "commit", head).out


def test_a_cancelled_run_leaves_no_key_behind(forge: Forge, tmp_path: Path) -> None:
    """SIGTERM (a CI job cancelled) while the push hangs: the key directory is removed on the way out."""
    _repo(forge)
    key = ssh_pair(tmp_path / "keys")
    # long enough for the SIGTERM below to land mid-push; short, since teardown waits for it
    forge.inject(faults.slow(10, service="git", path_contains="git-receive-pack"))
    proc = start_bump(forge.repo_url(REPO), "ghcr.io/acme/app6:1.1.0", env=_env(tmp_path, forge, key.private),
                      extra=["--sign", "ssh", *FAST])
    tmp = tmp_path / "cli-tmp"
    assert wait_for(lambda: any(p.name.startswith("updater-sign-") for p in tmp.iterdir()) or None, timeout=60)
    assert wait_for(lambda: forge.log_for("git", path_contains="service=git-receive-pack") or None, timeout=60)
    proc.terminate()
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGTERM  # ended by the signal, as without a key
    assert not [p for p in tmp.iterdir() if p.name.startswith("updater-sign-")]


def test_sign_set_in_updater_yml_signs_the_targets_commits(forge: Forge, tmp_path: Path) -> None:
    """`sign: ssh` in a target's settings asks for signing; the key still comes from the environment."""
    files = {f"apps/{app}/deploy.yaml": deployment(app, f"ghcr.io/acme/{app}:1.0.0") for app in APPS}
    files[".updater.yml"] = ("version: 1\ndefaults:\n  mode: push\n  sign: ssh\napps:\n  app7:\n"
                             "    environments:\n      prod:\n        paths: [\"apps/app7/**\"]\n")
    forge.create_repo(REPO, files)
    forge.protect(REPO, "main", Protection(allow_direct_push=True, required_signatures=True))
    key = ssh_pair(tmp_path / "keys")
    _register_ssh(forge, key)
    run = run_bump(forge.repo_url(REPO), "ghcr.io/acme/app7:1.1.0", env=_env(tmp_path, forge, key.private),
                   extra=["--target", "app7/prod", *FAST])
    assert run.returncode == 0, run.stderr
    assert forge.verified(REPO, "main")
