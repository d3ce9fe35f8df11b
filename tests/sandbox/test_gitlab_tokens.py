"""The forge's GitLab token kinds answer as GitLab does (`updater_sandbox.gitlab_tokens`): the
insufficient_scope 403 with the scopes the route accepts, invalid_token 401s, a token's reach, the
job token's few API routes and its git push setting, and git's refusal texts."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import requests

from tests.sandbox.replay import differences, reported
from updater_sandbox import gitlab_tokens as T
from updater_sandbox.forge import Forge

MRS = "/projects/acme%2Fgitops/merge_requests"


@pytest.fixture()
def gl(forge: Forge) -> Forge:
    forge.create_repo("acme/gitops", hook_style="gitlab")
    forge.create_repo("other/gitops", hook_style="gitlab")
    return forge


def api(forge: Forge, method: str, path: str, header: str, token: str) -> requests.Response:
    return requests.request(method, f"{forge.url}/api/v4{path}", headers={header: token}, json={}, timeout=30)


def git(forge: Forge, tmp_path: Path, user: str, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
           "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@example.com",
           "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@example.com"}
    url = forge.url.replace("http://", f"http://{user}:{token}@")
    return subprocess.run(["git", *[a.replace("URL", url) for a in args]], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)


def test_scopes_give_gitlabs_insufficient_scope_answer(gl: Forge) -> None:
    read = T.project_token(gl.store, "acme/gitops", scopes=("read_api",))
    assert api(gl, "GET", MRS, "PRIVATE-TOKEN", read).status_code == 200
    refused = api(gl, "POST", MRS, "PRIVATE-TOKEN", read)
    assert refused.status_code == 403 and refused.json() == {
        "error": "insufficient_scope", "scope": "api",
        "error_description": "The request requires higher privileges than provided by the access token."}
    assert 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]
    git_only = T.project_token(gl.store, "acme/gitops", scopes=("write_repository",))
    assert api(gl, "GET", MRS, "PRIVATE-TOKEN", git_only).json()["scope"] == "api read_api"


def test_revoked_expired_and_out_of_reach_tokens(gl: Forge) -> None:
    revoked = T.group_token(gl.store, "acme")
    assert api(gl, "GET", MRS, "PRIVATE-TOKEN", revoked).status_code == 200
    assert api(gl, "GET", "/projects/other%2Fgitops", "PRIVATE-TOKEN", revoked).json() == {
        "message": "404 Project Not Found"}
    T.revoke(gl.store, revoked)
    answer = api(gl, "GET", MRS, "PRIVATE-TOKEN", revoked)
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_token"
    assert "revoked" in answer.json()["error_description"]
    expired = T.personal_token(gl.store, expires_in=-1)
    assert "expired" in api(gl, "GET", "/user", "PRIVATE-TOKEN", expired).json()["error_description"]


def test_the_job_token_reaches_only_its_api_routes_and_bots_are_marked(gl: Forge) -> None:
    job = T.job_token(gl.store, "acme/gitops")
    assert api(gl, "GET", "/job", "JOB-TOKEN", job).json()["status"] == "running"
    for method, path in (("GET", MRS), ("POST", MRS), ("GET", "/user"), ("GET", "/projects/acme%2Fgitops")):
        answer = api(gl, method, path, "JOB-TOKEN", job)
        assert (answer.status_code, answer.json()) == (401, {"message": "401 Unauthorized"}), path
    assert api(gl, "GET", "/job", "PRIVATE-TOKEN", job).status_code == 401  # not a personal access token
    bot = T.project_token(gl.store, "acme/gitops")
    me = api(gl, "GET", "/user", "PRIVATE-TOKEN", bot).json()
    assert me["bot"] is True and me["username"].startswith(f"project_{gl.repo('acme/gitops').id}_bot_")
    assert api(gl, "GET", "/personal_access_tokens/self", "PRIVATE-TOKEN", bot).json()["scopes"] == [
        "api", "write_repository"]


def test_git_over_http_refusals_in_gitlabs_words(gl: Forge, tmp_path: Path) -> None:
    job = T.job_token(gl.store, "acme/gitops")
    assert git(gl, tmp_path, "oauth2", job, "clone", "-q", "URL/acme/gitops.git", "w1").returncode != 0
    assert git(gl, tmp_path, "gitlab-ci-token", job, "clone", "-q", "URL/acme/gitops.git", "job").returncode == 0
    assert git(gl, tmp_path / "job", "x", "x", "commit", "-q", "--allow-empty", "-m", "x").returncode == 0
    pushed = git(gl, tmp_path / "job", "x", "x", "push", "-q", "origin", "HEAD:refs/heads/x")
    assert pushed.returncode != 0 and "remote: You are not allowed to upload code." in pushed.stderr
    T.allow_job_token_push(gl.store, "acme/gitops")
    assert git(gl, tmp_path / "job", "x", "x", "push", "-q", "origin", "HEAD:refs/heads/x").returncode == 0

    reader = T.project_token(gl.store, "acme/gitops", scopes=("read_repository",))
    other = git(gl, tmp_path, "oauth2", reader, "clone", "-q", "URL/other/gitops.git", "o")
    assert "could not be found or you don't have permission to view it" in other.stderr
    read_api = T.project_token(gl.store, "acme/gitops", scopes=("read_api",))  # GitLab: read_api may clone
    assert git(gl, tmp_path, "oauth2", read_api, "clone", "-q", "URL/acme/gitops.git", "r").returncode == 0


@pytest.mark.parametrize(("key", "kind"), [("gitlab-insufficient-scope", "read_api"),
                                           ("gitlab-revoked-token", "revoked"),
                                           ("gitlab-job-token-merge-request-api", "job")])
def test_answers_match_the_ones_quoted_in_bug_reports(gl: Forge, key: str, kind: str) -> None:
    if kind == "job":
        header, token = "JOB-TOKEN", T.job_token(gl.store, "acme/gitops")
    else:
        scopes = ("api",) if kind == "revoked" else (kind,)
        header, token = "PRIVATE-TOKEN", T.project_token(gl.store, "acme/gitops", scopes=scopes)
        if kind == "revoked":
            T.revoke(gl.store, token)
    ex = reported(key)
    path = ex.path.replace("{project}", "acme%2Fgitops").replace("{number}", "1")
    answer = requests.request(ex.method, f"{gl.url}/api/v4{path}", json=ex.body, headers={header: token}, timeout=30)
    assert differences(ex, answer.status_code, answer.json()) == []
