"""Bad input and refusals: the services' error bodies and statuses, and a broken handler answering 500
while the server keeps serving."""

from __future__ import annotations

import shutil
from pathlib import Path

import github
import gitlab
import pytest
import requests

from tests.sandbox.forgehelp import Workspace, github_client
from updater_sandbox.forge import Forge


def _gh(forge: Forge) -> github.Github:
    return github_client(forge, retry=None)


def _auth(forge: Forge) -> dict[str, str]:
    return {"Authorization": f"token {forge.token}"}


def test_unknown_routes_answer_each_services_404_body(forge: Forge) -> None:
    gh = requests.get(f"{forge.github_api_url}/repos/acme/nothing/frobnicate", headers=_auth(forge), timeout=5)
    assert gh.status_code == 404 and gh.json()["message"] == "Not Found" and "documentation_url" in gh.json()
    gl = requests.get(f"{forge.url}/api/v4/nothing/here", headers={"PRIVATE-TOKEN": forge.token}, timeout=5)
    assert gl.status_code == 404 and gl.json() == {"error": "404 Not Found"}
    project = requests.get(f"{forge.url}/api/v4/projects/acme%2Fmissing", headers={"PRIVATE-TOKEN": forge.token},
                           timeout=5)
    assert project.status_code == 404 and project.json() == {"message": "404 Project Not Found"}
    with pytest.raises(github.UnknownObjectException):
        _gh(forge).get_repo("acme/missing")


def test_malformed_json_is_400_in_each_dialect(forge: Forge) -> None:
    forge.create_repo("acme/gitops")
    gh = requests.post(f"{forge.github_api_url}/repos/acme/gitops/pulls", data=b"{not json",
                       headers=_auth(forge), timeout=5)
    assert gh.status_code == 400 and gh.json()["message"] == "Problems parsing JSON"
    gl = requests.post(f"{forge.url}/api/v4/projects/acme%2Fgitops/merge_requests", data=b"{not json",
                       headers={"PRIVATE-TOKEN": forge.token, "Content-Type": "application/json"}, timeout=5)
    assert gl.status_code == 400 and gl.json() == {"message": "400 Bad request - Problems parsing JSON"}


def test_missing_or_wrong_token_is_401_with_the_real_bodies(forge: Forge, tmp_path: Path) -> None:
    forge.create_repo("acme/gitops")
    missing = requests.get(f"{forge.github_api_url}/user", timeout=5)
    assert missing.status_code == 401 and missing.json()["message"] == "Requires authentication"
    wrong = requests.get(f"{forge.github_api_url}/user", headers={"Authorization": "token nope-0000"}, timeout=5)
    assert wrong.status_code == 401 and wrong.json()["message"] == "Bad credentials"
    with pytest.raises(github.BadCredentialsException):
        github.Github(auth=github.Auth.Token("nope-0000"), base_url=forge.github_api_url).get_user().login
    with pytest.raises(gitlab.GitlabAuthenticationError):
        gitlab.Gitlab(forge.gitlab_api_url, private_token="nope-0000").projects.get("acme/gitops")
    gl = requests.get(f"{forge.url}/api/v4/projects/1", headers={"PRIVATE-TOKEN": "nope"}, timeout=5)
    assert gl.status_code == 401 and gl.json() == {"message": "401 Unauthorized"}


def test_read_only_token_may_read_but_not_write(tmp_path: Path) -> None:
    with Forge(tmp_path / "srv", read_only_tokens=("reader-token-1234",)) as forge:
        forge.create_repo("acme/gitops")
        headers = {"Authorization": "token reader-token-1234"}
        assert requests.get(f"{forge.github_api_url}/repos/acme/gitops", headers=headers, timeout=5).ok
        denied = requests.post(f"{forge.github_api_url}/repos/acme/gitops/pulls", json={}, headers=headers, timeout=5)
        assert denied.status_code == 403 and "not accessible" in denied.json()["message"]


def test_a_failing_handler_answers_500_and_the_server_keeps_serving(forge: Forge) -> None:
    repo = forge.create_repo("acme/gitops")
    shutil.rmtree(repo.bare.path)  # the repository vanishes under the forge: git plumbing now fails
    broken = requests.get(f"{forge.github_api_url}/repos/acme/gitops", headers=_auth(forge), timeout=5)
    assert broken.status_code == 500 and broken.json()["message"] == "Internal Server Error"
    assert requests.get(f"{forge.github_api_url}/user", headers=_auth(forge), timeout=5).json()["login"] == "sandbox-bot"
    assert [r.status for r in forge.log_for("github")] == [500, 200]


def test_duplicate_pull_requests_are_refused(forge: Forge, tmp_path: Path) -> None:
    forge.create_repo("acme/gitops")
    Workspace(forge, "acme/gitops", tmp_path).commit_on("topic", {"a.txt": "a\n"}, "a")
    repo = _gh(forge).get_repo("acme/gitops")
    repo.create_pull(base="main", head="topic", title="one")
    with pytest.raises(github.GithubException) as err:
        repo.create_pull(base="main", head="topic", title="two")
    assert err.value.status == 422 and "already exists" in str(err.value.data)
    project = gitlab.Gitlab(forge.gitlab_api_url, private_token=forge.token).projects.get("acme/gitops")
    with pytest.raises(gitlab.GitlabCreateError) as gl_err:
        project.mergerequests.create({"source_branch": "topic", "target_branch": "main", "title": "three"})
    assert gl_err.value.response_code == 409 and "!1" in str(gl_err.value)


def test_conflicts_stale_sha_and_failed_rebase(forge: Forge, tmp_path: Path) -> None:
    forge.create_repo("acme/gitops", {"deploy.yaml": "image: a:1\n"})
    forge.rebase_delay = 0.0
    work = Workspace(forge, "acme/gitops", tmp_path)
    head = work.commit_on("topic", {"deploy.yaml": "image: a:2\n"}, "a 2")
    repo = _gh(forge).get_repo("acme/gitops")
    pr = repo.create_pull(base="main", head="topic", title="a 2")
    with pytest.raises(github.GithubException) as stale:
        pr.merge(sha="0" * 40)
    assert stale.value.status == 409
    work.commit_on("main", {"deploy.yaml": "image: a:3\n"}, "a 3")
    pr = repo.get_pull(pr.number)
    assert (pr.mergeable, pr.mergeable_state) == (False, "dirty")
    with pytest.raises(github.GithubException) as conflict:
        pr.merge()
    assert conflict.value.status == 405
    project = gitlab.Gitlab(forge.gitlab_api_url, private_token=forge.token).projects.get("acme/gitops")
    mr = project.mergerequests.get(pr.number)
    assert (mr.detailed_merge_status, mr.has_conflicts, mr.merge_status) == ("conflict", True, "cannot_be_merged")
    with pytest.raises(gitlab.GitlabMRClosedError):
        mr.merge()
    mr.rebase()
    from tests.sandbox.forgehelp import wait_for

    done = wait_for(lambda: not (m := project.mergerequests.get(mr.iid, include_rebase_in_progress=True))
                    .rebase_in_progress and m)
    assert done.merge_error.startswith("Rebase failed") and done.sha == head
    assert forge.repo("acme/gitops").bare.rev_parse("topic") == head  # nothing half-written


def test_auto_merge_is_refused_when_the_pull_request_could_merge_now(forge: Forge, tmp_path: Path) -> None:
    forge.create_repo("acme/gitops")
    Workspace(forge, "acme/gitops", tmp_path).commit_on("topic", {"a.txt": "a\n"}, "a")
    pr = _gh(forge).get_repo("acme/gitops").create_pull(base="main", head="topic", title="a")
    with pytest.raises(github.GithubException, match="clean status"):
        pr.enable_automerge()
    forge.settings("acme/gitops").allow_auto_merge = False
    with pytest.raises(github.GithubException, match="not allowed"):
        pr.enable_automerge()


def test_every_error_is_logged(forge: Forge, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="updater.sandbox")
    requests.get(f"{forge.github_api_url}/repos/acme/none", headers=_auth(forge), timeout=5)
    requests.get(f"{forge.github_api_url}/user", timeout=5)
    assert "forge: GET /api/v3/repos/acme/none -> 404 Not Found" in caplog.text
    assert "forge: GET /api/v3/user -> 401 Requires authentication" in caplog.text


def test_gits_credential_less_first_request_is_not_logged_as_an_error() -> None:
    import logging
    from types import SimpleNamespace

    from updater_sandbox.serving import _error_level

    anonymous, with_token = SimpleNamespace(headers={}), SimpleNamespace(headers={"Authorization": "Basic x"})
    assert _error_level("git", 401, anonymous) == logging.DEBUG  # the auth handshake every clone starts with
    assert _error_level("git", 401, with_token) == logging.INFO  # a wrong token is worth a line
    assert _error_level("github", 401, anonymous) == logging.INFO
    assert _error_level("git", 502, anonymous) == logging.WARNING
    assert _error_level("git", None, anonymous) == logging.WARNING
