"""Push mode end to end on real repositories: in process (`land`) and through the real CLI."""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import replace
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.gitrepos import clone, commit_all, git, read_blob, write_tree
from tests.landing.push_helpers import (  # noqa: F401  (bare, isolated_git, server: fixtures)
    FAST_RETRIES,
    TOKEN,
    bare,
    cli_env,
    deployment,
    isolated_git,
    manifest_remote,
    run_bump,
    server,
)
from updater.cli import build_parser
from updater.errors import ExitCode, PolicyRefused
from updater.landing.push import land_push as land
from updater.landing.settings import LandingSettings, settings_from_request
from updater.options.request import build_request
from updater_sandbox.git_http import GitHttpServer, http_error

pytestmark = pytest.mark.usefixtures("isolated_git")


def settings(repo: str, *images: str, extra: Sequence[str] = (), env: dict[str, str] | None = None) -> LandingSettings:
    argv = ["bump", "--repo", repo, "--mode", "push", *FAST_RETRIES, *extra]
    for image in images:
        argv += ["--image", image]
    return settings_from_request(build_request(vars(build_parser().parse_args(argv)), env or {}), env or {})


def pusher(bare: Path, tmp_path: Path, files: dict[str, str], message: str = "concurrent") -> Any:
    """A fault for GitHttpServer that first lands another commit (a real push from another clone),
    then lets the request through: the updater's push arrives just after someone else's."""
    other = clone(bare, tmp_path / f"other-{len(list(tmp_path.glob('other-*')))}")

    def fault(service: str, handler: object) -> bool:
        git("pull", "-q", "--ff-only", "origin", "main", cwd=other)
        write_tree(other, files)
        commit_all(other, message)
        git("push", "-q", "origin", "HEAD:main", cwd=other)
        return False

    return fault


def test_lands_one_commit_with_message_trailers_and_identity(bare: Path, tmp_path: Path) -> None:
    env = cli_env(tmp_path, {
        "GITHUB_ACTIONS": "true", "GITHUB_SHA": "c0ffee" * 6 + "abcd", "GITHUB_SERVER_URL": "https://github.example",
        "GITHUB_REPOSITORY": "acme/api", "GITHUB_RUN_ID": "77", "GIT_COMMITTER_NAME": "Committer C",
        "GIT_COMMITTER_EMAIL": "c@example.test",
    })
    done = run_bump(bare.as_uri(), "ghcr.io/acme/api:1.1.0", env=env, extra=["--author", "Author A <a@example.test>"])
    assert done.returncode == 0, done.stderr
    assert "pushed" in done.stderr and "(attempt 1/" in done.stderr
    assert "+          image: ghcr.io/acme/api:1.1.0  # keep this comment" in done.stdout
    assert read_blob(bare, "main", "apps/api/deploy.yaml") == deployment("api", "ghcr.io/acme/api:1.1.0").rstrip("\n")
    log = git("log", "-1", "--format=%an <%ae>|%cn <%ce>|%B", "main", cwd=bare)
    assert log == (
        "Author A <a@example.test>|Committer C <c@example.test>|Bump ghcr.io/acme/api to 1.1.0\n\n"
        "- apps/api/deploy.yaml:10 ghcr.io/acme/api 1.0.0 → 1.1.0\n\n"
        f"Updater-Source-Commit: {'c0ffee' * 6 + 'abcd'}\n"
        "Updater-Pipeline: https://github.example/acme/api/actions/runs/77"
    )
    assert git("rev-list", "--count", "main", cwd=bare) == "2"


def test_custom_template_and_the_bot_identity(bare: Path, tmp_path: Path) -> None:
    env = cli_env(tmp_path, {"CI_COMMIT_SHA": "f" * 40, "CI_PIPELINE_URL": "https://gitlab.example/p/1",
                             "CI_PROJECT_PATH": "acme/api"})
    template = "deploy({ci[CI_PROJECT_PATH]}): {image} {old} -> {tag} in {files}"
    done = run_bump(bare.as_uri(), "ghcr.io/acme/api:1.1.0", env=env, extra=["--message", template])
    assert done.returncode == 0, done.stderr
    assert git("log", "-1", "--format=%an|%B", "main", cwd=bare) == (
        "updater-bot|deploy(acme/api): ghcr.io/acme/api 1.0.0 -> 1.1.0 in apps/api/deploy.yaml\n\n"
        f"Updater-Source-Commit: {'f' * 40}\nUpdater-Pipeline: https://gitlab.example/p/1"
    )


def test_commit_is_signed_when_git_config_asks_for_it(bare: Path, tmp_path: Path) -> None:
    key = tmp_path / "signing-key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ci", "-f", str(key)], check=True)
    config = tmp_path / "gitconfig"
    config.write_text(f"[gpg]\n\tformat = ssh\n[user]\n\tsigningkey = {key}\n\tname = Configured C\n"
                      "\temail = c@example.test\n[commit]\n\tgpgsign = true\n")
    done = run_bump(bare.as_uri(), "ghcr.io/acme/api:1.1.0", env=cli_env(tmp_path, {"GIT_CONFIG_GLOBAL": str(config)}))
    assert done.returncode == 0, done.stderr
    assert "-----BEGIN SSH SIGNATURE-----" in git("cat-file", "commit", "main", cwd=bare)
    assert git("log", "-1", "--format=%an <%ae>", "main", cwd=bare) == "Configured C <c@example.test>"  # from git config


def test_second_run_is_idempotent_exit_0_and_no_commit(bare: Path, tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    assert run_bump(str(bare), "ghcr.io/acme/api:1.1.0", env=env).returncode == 0
    tip = git("rev-parse", "main", cwd=bare)
    again = run_bump(str(bare), "ghcr.io/acme/api:1.1.0", env=env, extra=["--json"])
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert (report["outcome"], report["changed"], report["commit_sha"], report["changed_files"]) == ("unchanged", False, tip, [])
    assert "already current" in again.stderr and "no commit" in again.stderr
    assert git("rev-parse", "main", cwd=bare) == tip


def test_json_report_has_commit_branch_attempts_and_files(bare: Path, tmp_path: Path) -> None:
    done = run_bump(bare.as_uri(), "ghcr.io/acme/api:1.1.0", "ghcr.io/acme/web:2.1.0", env=cli_env(tmp_path),
                    extra=["--json", "--branch", "main"])
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["outcome"] == "pushed" and report["changed"] is True
    assert report["commit_sha"] == git("rev-parse", "main", cwd=bare)
    assert (report["branch"], report["base"], report["attempts"], report["mode"]) == ("main", "main", 1, "push")
    assert report["changed_files"] == ["apps/api/deploy.yaml", "apps/web/deploy.yaml"]
    assert [(c["path"], c["old"], c["new"]) for c in report["changes"]] == [
        ("apps/api/deploy.yaml", "ghcr.io/acme/api:1.0.0", "ghcr.io/acme/api:1.1.0"),
        ("apps/web/deploy.yaml", "ghcr.io/acme/web:2.0.0", "ghcr.io/acme/web:2.1.0"),
    ]


def test_dry_run_pushes_nothing(bare: Path, tmp_path: Path) -> None:
    tip = git("rev-parse", "main", cwd=bare)
    done = run_bump(bare.as_uri(), "ghcr.io/acme/api:1.1.0", env=cli_env(tmp_path), extra=["--dry-run", "--json"])
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["dry_run"] is True and report["changed_files"] == ["apps/api/deploy.yaml"]
    assert report["commit_sha"] is None
    assert git("rev-parse", "main", cwd=bare) == tip


def test_plain_downgrade_is_refused_exit_4_and_nothing_pushed(bare: Path, tmp_path: Path) -> None:
    tip = git("rev-parse", "main", cwd=bare)
    done = run_bump(bare.as_uri(), "ghcr.io/acme/api:0.9.0", env=cli_env(tmp_path))
    assert done.returncode == ExitCode.REFUSED
    assert "refusing to downgrade" in done.stderr
    assert git("rev-parse", "main", cwd=bare) == tip


def test_missing_reference_exit_3_or_0_with_allow_missing(bare: Path, tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    assert run_bump(bare.as_uri(), "ghcr.io/acme/nope:1.0.0", env=env).returncode == ExitCode.NOT_FOUND
    allowed = run_bump(bare.as_uri(), "ghcr.io/acme/nope:1.0.0", env=env, extra=["--allow-missing"])
    assert allowed.returncode == 0 and "no commit" in allowed.stderr
    assert git("rev-list", "--count", "main", cwd=bare) == "1"


def test_bad_repository_and_branch_are_exit_2(bare: Path, tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    missing = run_bump(str(tmp_path / "nope.git"), "ghcr.io/acme/api:1.1.0", env=env)
    assert missing.returncode == ExitCode.BAD_INPUT and "--repo" in missing.stderr
    branch = run_bump(bare.as_uri(), "ghcr.io/acme/api:1.1.0", env=env, extra=["--branch", "nope"])
    assert branch.returncode == ExitCode.BAD_INPUT and "Remote branch nope not found" in branch.stderr
    assert list((tmp_path / "cli-tmp").iterdir()) == []  # the temporary clones are gone


def test_protected_branch_is_refused_at_once_exit_4(server: GitHttpServer, bare: Path, tmp_path: Path) -> None:
    hook = bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'GL-HOOK-ERR: You are not allowed to push to protected branch main' >&2\nexit 1\n")
    hook.chmod(0o755)
    tip = git("rev-parse", "main", cwd=bare)
    done = run_bump(server.repo_url("acme/gitops.git"), "ghcr.io/acme/api:1.1.0",
                    env=cli_env(tmp_path, {"GITHUB_TOKEN": TOKEN}))
    assert done.returncode == ExitCode.REFUSED
    assert "pre-receive hook declined" in done.stderr and "protected branch" in done.stderr
    assert "attempt 2/" not in done.stderr
    assert git("rev-parse", "main", cwd=bare) == tip


def test_wrong_token_is_exit_6_fast_and_never_printed(server: GitHttpServer, bare: Path, tmp_path: Path) -> None:
    wrong = "wrong-token-31337-zzz"
    started = time.monotonic()
    done = run_bump(server.repo_url("acme/gitops.git"), "ghcr.io/acme/api:1.1.0",
                    env=cli_env(tmp_path, {"GITHUB_TOKEN": wrong}), extra=["--json"])
    assert done.returncode == ExitCode.AUTH
    assert time.monotonic() - started < 15
    assert "$GITHUB_TOKEN" in done.stderr and "attempt 2/" not in done.stderr
    assert wrong not in done.stdout + done.stderr


def test_token_env_names_a_missing_variable_exit_6(server: GitHttpServer, tmp_path: Path) -> None:
    done = run_bump(server.repo_url("acme/gitops.git"), "ghcr.io/acme/api:1.1.0", env=cli_env(tmp_path),
                    extra=["--token-env", "DEPLOY_TOKEN"])
    assert done.returncode == ExitCode.AUTH and "$DEPLOY_TOKEN is not set" in done.stderr


def test_token_in_the_url_lands_and_is_masked(server: GitHttpServer, bare: Path, tmp_path: Path) -> None:
    url = server.repo_url("acme/gitops.git").replace("http://", f"http://bot:{TOKEN}@")
    done = run_bump(url, "ghcr.io/acme/api:1.1.0", env=cli_env(tmp_path), extra=["--json"], verbose=True)
    assert done.returncode == 0, done.stderr
    assert TOKEN not in done.stdout + done.stderr
    assert json.loads(done.stdout)["repo"] == server.repo_url("acme/gitops.git")
    assert TOKEN not in git("log", "-1", "--format=%B", "main", cwd=bare)


def test_sparse_path_bumps_only_under_the_globs(server: GitHttpServer, tmp_path: Path) -> None:
    shared = "ghcr.io/acme/shared:1.0.0"
    bare = manifest_remote(tmp_path / "srv2", {
        "apps/api/deploy.yaml": deployment("api", shared),
        "apps/web/deploy.yaml": deployment("web", shared),
    })
    with GitHttpServer(bare.parent.parent, token=TOKEN) as served:
        done = run_bump(served.repo_url("acme/gitops.git"), "ghcr.io/acme/shared:1.1.0",
                        env=cli_env(tmp_path, {"GITHUB_TOKEN": TOKEN}), extra=["--path", "apps/api/**", "--json"])
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["changed_files"] == ["apps/api/deploy.yaml"]
    assert "ghcr.io/acme/shared:1.1.0" in read_blob(bare, "main", "apps/api/deploy.yaml")
    assert "ghcr.io/acme/shared:1.0.0" in read_blob(bare, "main", "apps/web/deploy.yaml")


def test_sparse_clone_is_widened_when_kustomize_validation_needs_a_base(tmp_path: Path) -> None:
    bare = manifest_remote(tmp_path / "srv2", {
        "base/deploy.yaml": deployment("api", "ghcr.io/acme/api:1.0.0"),
        "base/kustomization.yaml": "resources:\n  - deploy.yaml\n",
        "overlays/staging/kustomization.yaml": (
            "resources:\n  - ../../base\nimages:\n  - name: ghcr.io/acme/api\n    newTag: 1.0.0\n"),
        "other/big.yaml": "x: 1\n",
    })
    with GitHttpServer(bare.parent.parent, token=TOKEN) as served:
        done = run_bump(served.repo_url("acme/gitops.git"), "ghcr.io/acme/api:1.1.0", verbose=True,
                        env=cli_env(tmp_path, {"GITHUB_TOKEN": TOKEN}), extra=["--path", "overlays/staging/**", "--json"])
    assert done.returncode == 0, done.stderr
    assert "leaving the sparse checkout" in done.stderr and "validating: building 1 " in done.stderr
    assert json.loads(done.stdout)["changed_files"] == ["overlays/staging/kustomization.yaml"]
    assert "newTag: 1.1.0" in read_blob(bare, "main", "overlays/staging/kustomization.yaml")
    assert "ghcr.io/acme/api:1.0.0" in read_blob(bare, "main", "base/deploy.yaml")  # outside --path: untouched


def test_sparse_clone_without_kustomizations_stays_sparse(server: GitHttpServer, tmp_path: Path) -> None:
    done = run_bump(server.repo_url("acme/gitops.git"), "ghcr.io/acme/api:1.1.0", verbose=True,
                    env=cli_env(tmp_path, {"GITHUB_TOKEN": TOKEN}), extra=["--path", "apps/api/*.yaml"])
    assert done.returncode == 0, done.stderr
    assert "leaving the sparse checkout" not in done.stderr


# -- races, in process: a real push lands between our clone and our push ---------------------------

def test_race_reapplies_the_bump_on_the_new_tip(server: GitHttpServer, bare: Path, tmp_path: Path) -> None:
    theirs = deployment("web", "ghcr.io/acme/web:2.5.0")
    server.faults["receive-pack"].append(pusher(bare, tmp_path, {"apps/web/deploy.yaml": theirs}))
    result = land(settings(server.repo_url("acme/gitops.git"), "ghcr.io/acme/api:1.1.0", env={"GITHUB_TOKEN": TOKEN}))
    assert (result.outcome, result.attempts) == ("pushed", 2)
    assert result.commit_sha == git("rev-parse", "main", cwd=bare)
    assert git("log", "--format=%s", "main", cwd=bare).splitlines() == ["Bump ghcr.io/acme/api to 1.1.0", "concurrent", "seed"]
    assert "ghcr.io/acme/web:2.5.0" in read_blob(bare, "main", "apps/web/deploy.yaml")
    assert "ghcr.io/acme/api:1.1.0" in read_blob(bare, "main", "apps/api/deploy.yaml")


def test_race_with_the_same_bump_ends_unchanged(server: GitHttpServer, bare: Path, tmp_path: Path) -> None:
    same = deployment("api", "ghcr.io/acme/api:1.1.0")
    server.faults["receive-pack"].append(pusher(bare, tmp_path, {"apps/api/deploy.yaml": same}))
    result = land(settings(server.repo_url("acme/gitops.git"), "ghcr.io/acme/api:1.1.0", env={"GITHUB_TOKEN": TOKEN}))
    assert (result.outcome, result.attempts, result.changed) == ("unchanged", 2, False)
    assert git("log", "--format=%s", "main", cwd=bare).splitlines() == ["concurrent", "seed"]


def test_race_lost_to_a_newer_version_is_superseded_not_a_downgrade(server: GitHttpServer, bare: Path,
                                                                     tmp_path: Path) -> None:
    newer = deployment("api", "ghcr.io/acme/api:1.2.0")
    server.faults["receive-pack"].append(pusher(bare, tmp_path, {"apps/api/deploy.yaml": newer}))
    result = land(settings(server.repo_url("acme/gitops.git"), "ghcr.io/acme/api:1.1.0", env={"GITHUB_TOKEN": TOKEN}))
    assert (result.outcome, result.attempts) == ("unchanged", 2)
    assert result.warnings and result.warnings[0].startswith("superseded: a newer version is already on main")
    assert "ghcr.io/acme/api:1.2.0" in read_blob(bare, "main", "apps/api/deploy.yaml")


def test_a_push_that_landed_but_whose_answer_was_lost_is_reported_as_pushed(bare: Path) -> None:
    """The ref is updated, then the server hangs (a slow post-receive hook) past our per-command
    timeout: the retry finds our own commit at the tip and reports it, without a second commit."""
    hook = bare / "hooks" / "post-receive"
    hook.write_text("#!/bin/sh\nsleep 4\n")
    hook.chmod(0o755)
    result = land(replace(settings(bare.as_uri(), "ghcr.io/acme/api:1.1.0"), git_timeout=2.0))
    assert (result.outcome, result.attempts) == ("pushed", 2)
    assert result.commit_sha == git("rev-parse", "main", cwd=bare)
    assert git("rev-list", "--count", "main", cwd=bare) == "2"


def test_newer_version_seen_before_any_plan_is_a_plain_downgrade(server: GitHttpServer, bare: Path,
                                                                 tmp_path: Path) -> None:
    """The first clone fails (502) while a newer version lands; the retry's first plan sees it: the
    run never had a valid bump, so this is a downgrade request (exit 4), not a lost race."""
    newer = pusher(bare, tmp_path, {"apps/api/deploy.yaml": deployment("api", "ghcr.io/acme/api:1.2.0")})
    server.faults["upload-pack"].append(lambda service, handler: newer(service, handler) or http_error(502)(service, handler))
    with pytest.raises(PolicyRefused, match="refusing to downgrade"):
        land(settings(server.repo_url("acme/gitops.git"), "ghcr.io/acme/api:1.1.0", env={"GITHUB_TOKEN": TOKEN}))


def test_race_budget_exhausted_is_exit_7_and_nothing_of_ours_lands(server: GitHttpServer, bare: Path,
                                                                   tmp_path: Path) -> None:
    for version in ("2.1.0", "2.2.0", "2.3.0"):  # someone else wins every round
        server.faults["receive-pack"].append(
            pusher(bare, tmp_path, {"apps/web/deploy.yaml": deployment("web", f"ghcr.io/acme/web:{version}")}, version))
        server.faults["receive-pack"].append(lambda service, handler: False)
    done = run_bump(server.repo_url("acme/gitops.git"), "ghcr.io/acme/api:1.1.0",
                    env=cli_env(tmp_path, {"GITHUB_TOKEN": TOKEN}), extra=["--retries", "3", *FAST_RETRIES])
    assert done.returncode == ExitCode.REMOTE, done.stderr
    assert "still failing after 3 attempt(s)" in done.stderr and "attempt 3/3" in done.stderr
    assert "1.0.0" in read_blob(bare, "main", "apps/api/deploy.yaml")


def test_push_from_a_clone_that_is_behind_is_what_git_calls_fetch_first(bare: Path, tmp_path: Path) -> None:
    """Sanity check of the premise the race tests rely on (git itself, no updater)."""
    a, b = clone(bare, tmp_path / "a"), clone(bare, tmp_path / "b")
    write_tree(a, {"x": "1"}), commit_all(a, "a")
    git("push", "-q", "origin", "main", cwd=a)
    write_tree(b, {"y": "1"}), commit_all(b, "b")
    done = subprocess.run(["git", "push", "--porcelain", "origin", "main"], cwd=b, capture_output=True, text=True)
    assert "[rejected] (fetch first)" in done.stdout
