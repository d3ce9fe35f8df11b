"""GitLab's token kinds through the real flow: `updater bump` (the CLI, in a child process) against
the local forge's GitLab, which gives each kind GitLab's own rights and refusals
(`updater_sandbox.gitlab_tokens`). What each kind can do for updater, and the one line (exit 6,
naming the step, the kind and the scope or setting needed) when it cannot. No run prints a token.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.landing.pr_support import REPO, app_files, open_pulls
from tests.landing.test_pr_round_trips import _spy_git
from updater.errors import AuthFailed
from updater.forges.base import detect_target, open_provider
from updater.forges.settings import ProviderSettings
from updater_sandbox import gitlab_tokens as T
from updater_sandbox.forge import Forge

IMAGE = "ghcr.io/acme/app01:1.1.0"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def gl(forge: Forge) -> Forge:
    forge.create_repo(REPO, app_files(2), hook_style="gitlab")
    return forge


def bump(forge: Forge, tmp_path: Path, env: dict[str, str], *args: str, repo: str = REPO,
         mode: str = "pr", spy: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`updater -v bump` as a CI job runs it: only the given variables, no machine git config
    (`spy`: a directory with a recording `git` put first on PATH)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GITLAB_", "GIT_", "CI_"))}
    if spy is not None:
        clean["PATH"] = f"{spy}{os.pathsep}{clean['PATH']}"
    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    clean.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "TMPDIR": str(tmp), **env})
    argv = ["bump", "--repo", forge.repo_url(repo), "--mode", mode, "--image", IMAGE, *args]
    if mode == "pr":
        argv += ["--provider", "gitlab", "--api-url", forge.gitlab_api_url]
    done = subprocess.run([sys.executable, "-m", "updater", "-v", *argv], cwd=ROOT, env=clean,
                          capture_output=True, text=True, timeout=120)
    for token in env.values():
        assert token not in done.stdout + done.stderr
    return done


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    [line] = [x for x in done.stderr.splitlines() if x.startswith("updater: error:")]
    return line


def test_a_project_access_token_with_api_and_write_repository_lands_the_merge_request(gl: Forge, tmp_path: Path) -> None:
    token = T.project_token(gl.store, REPO, scopes=("api", "write_repository"))
    done = bump(gl, tmp_path, {"GITLAB_TOKEN": token}, "--label", "deploy")
    assert done.returncode == 0, done.stderr
    [pull] = open_pulls(gl)
    assert pull.author.startswith(f"project_{gl.repo(REPO).id}_bot_") and pull.labels == ["deploy"]


def test_a_read_api_token_cannot_open_the_merge_request_exit_6_naming_the_api_scope(gl: Forge, tmp_path: Path) -> None:
    token = T.project_token(gl.store, REPO, scopes=("read_api", "write_repository"))
    done = bump(gl, tmp_path, {"GITLAB_TOKEN": token})
    assert done.returncode == 6, done.stderr
    line = one_line_error(done)
    assert "open a merge request from updater/main/app01" in line
    assert "the project access token in $GITLAB_TOKEN lacks the `api` scope (read_api is read-only)" in line
    assert "it has read_api, write_repository" in line and "role Developer" in line
    assert open_pulls(gl) == []
    pushed = gl.repo(REPO).bare.rev_parse("updater/main/app01")  # the push came before the refusal
    good = T.project_token(gl.store, REPO, scopes=("api", "write_repository"))
    assert bump(gl, tmp_path, {"GITLAB_TOKEN": good}).returncode == 0  # the next run reuses the branch
    assert [p.head for p in open_pulls(gl)] == ["updater/main/app01"]
    assert gl.repo(REPO).bare.rev_parse("updater/main/app01") == pushed


def test_a_token_without_write_repository_cannot_push_exit_6_naming_it(gl: Forge, tmp_path: Path) -> None:
    token = T.project_token(gl.store, REPO, scopes=("read_api", "read_repository"))
    done = bump(gl, tmp_path, {"GITLAB_TOKEN": token})
    assert done.returncode == 6, done.stderr
    line = one_line_error(done)
    assert "push to" in line and "the token lacks the write_repository scope" in line
    assert "$GITLAB_TOKEN" in line
    assert gl.repo(REPO).bare.rev_parse("updater/main/app01") is None and open_pulls(gl) == []


def test_a_reporter_project_token_cannot_push_exit_6_naming_the_role(gl: Forge, tmp_path: Path) -> None:
    token = T.project_token(gl.store, REPO, scopes=("api", "write_repository"), role="reporter")
    done = bump(gl, tmp_path, {"GITLAB_TOKEN": token})
    assert done.returncode == 6, done.stderr
    assert "lacks the Developer role" in one_line_error(done)


def test_a_group_access_token_lands_in_its_group_and_is_refused_elsewhere(gl: Forge, tmp_path: Path) -> None:
    gl.create_repo("platform/gitops", app_files(2), hook_style="gitlab")
    token = T.group_token(gl.store, "acme", scopes=("api", "write_repository"))
    done = bump(gl, tmp_path, {"GITLAB_TOKEN": token})
    assert done.returncode == 0, done.stderr
    assert [p.author.startswith("group_") for p in open_pulls(gl)] == [True]

    done = bump(gl, tmp_path, {"GITLAB_TOKEN": token}, repo="platform/gitops")
    assert done.returncode == 6, done.stderr
    line = one_line_error(done)
    assert "clone of" in line and "a group access token only the projects of its group" in line
    assert not gl.repo("platform/gitops").pulls


def test_ci_job_token_clones_but_pushes_only_where_the_project_allows_it(gl: Forge, tmp_path: Path) -> None:
    token = T.job_token(gl.store, REPO)
    main = gl.repo(REPO).bare.rev_parse("main")
    done = bump(gl, tmp_path, {"CI_JOB_TOKEN": token}, "--token-env", "CI_JOB_TOKEN", mode="push")
    assert done.returncode == 6, done.stderr
    line = one_line_error(done)
    assert "push refused for CI_JOB_TOKEN: enable 'Allow Git push requests to the repository'" in line
    assert "project access token with write_repository" in line
    assert gl.repo(REPO).bare.rev_parse("main") == main
    clones = [r for r in gl.log_for("git", method="POST", path_contains="git-upload-pack") if r.status == 200]
    assert clones  # the clone itself worked, as user gitlab-ci-token

    T.allow_job_token_push(gl.store, REPO)
    spy, log = _spy_git(tmp_path)
    done = bump(gl, tmp_path, {"CI_JOB_TOKEN": token}, "--token-env", "CI_JOB_TOKEN", mode="push", spy=spy)
    assert done.returncode == 0, done.stderr
    assert gl.repo(REPO).bare.rev_parse("main") != main
    seen = log.read_text()  # every git argv and the clone's .git/config after each command
    assert " push --porcelain" in seen and '[remote "origin"]' in seen
    assert token not in seen and base64.b64encode(f"gitlab-ci-token:{token}".encode()).decode() not in seen


def test_ci_job_token_cannot_use_the_merge_request_api_exit_6_naming_the_job_token_limit(gl: Forge, tmp_path: Path) -> None:
    token = T.job_token(gl.store, REPO)
    T.allow_job_token_push(gl.store, REPO)  # even with pushes allowed: merge requests are off limits
    done = bump(gl, tmp_path, {"CI_JOB_TOKEN": token}, "--token-env", "CI_JOB_TOKEN")
    assert done.returncode == 6, done.stderr
    line = one_line_error(done)
    assert "CI_JOB_TOKEN cannot do this step" in line and "merge requests are not among them" in line
    assert "project access token with scopes api and write_repository" in line
    assert open_pulls(gl) == []
    assert [r.status for r in gl.log_for("gitlab", path_contains="/job")] == [200]  # the job token was alive


def test_a_revoked_token_fails_at_once_with_exit_6(gl: Forge, tmp_path: Path) -> None:
    token = T.project_token(gl.store, REPO)
    T.revoke(gl.store, token)
    done = bump(gl, tmp_path, {"GITLAB_TOKEN": token})
    assert done.returncode == 6, done.stderr
    assert "$GITLAB_TOKEN" in one_line_error(done) and open_pulls(gl) == []


def test_the_api_says_revoked_or_expired_in_gitlabs_own_words(gl: Forge) -> None:
    revoked = T.project_token(gl.store, REPO)
    T.revoke(gl.store, revoked)
    expired = T.personal_token(gl.store, expires_in=-1)
    target = detect_target(gl.repo_url(REPO), provider="gitlab", api_url=gl.gitlab_api_url)
    for token, why in ((revoked, "Token was revoked"), (expired, "Token is expired")):
        provider = open_provider(target, token=token, settings=ProviderSettings())
        with pytest.raises(AuthFailed) as err:
            provider.find_open(head="updater/main/app01")
        assert why in str(err.value) and "$GITLAB_TOKEN" in str(err.value) and token not in str(err.value)


def test_the_readme_job_token_example_runs_through_the_gitlab_job_entrypoint(gl: Forge, tmp_path: Path) -> None:
    """README "GitLab tokens": `mode: push` + `token-variable: CI_JOB_TOKEN`, as the component's job
    runs it (`python -m updater.ci.gitlab` with the pipeline's variables)."""
    token = T.job_token(gl.store, REPO)
    pipeline = {"CI_SERVER_URL": gl.url, "CI_API_V4_URL": f"{gl.url}/api/v4", "CI_PROJECT_URL": f"{gl.url}/{REPO}",
                "CI_JOB_TOKEN": token, "UPDATER_IMAGES": IMAGE, "UPDATER_MODE": "push",
                "UPDATER_TOKEN_VARIABLE": "CI_JOB_TOKEN", "UPDATER_PATHS": "apps/app01/*.yaml"}
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GITLAB_", "GIT_", "CI_", "UPDATER_"))}
    clean.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "PYTHONPATH": str(ROOT), **pipeline})

    def job() -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "updater.ci.gitlab"], cwd=tmp_path, env=clean,
                              capture_output=True, text=True, timeout=120)
        assert token not in done.stdout + done.stderr + (tmp_path / "updater.env").read_text()
        return done

    refused = job()
    assert refused.returncode == 6 and "enable 'Allow Git push requests to the repository'" in refused.stderr
    T.allow_job_token_push(gl.store, REPO)
    landed = job()
    assert landed.returncode == 0, landed.stderr
    assert "UPDATER_OUTCOME=pushed\nUPDATER_CHANGED=true\n" in (tmp_path / "updater.env").read_text()
    assert gl.repo(REPO).bare.git("show", "main:apps/app01/deploy.yaml").out.count(IMAGE) == 1
