"""Injected faults, acted out as the services do, and the clients' own recovery from them."""

from __future__ import annotations

import time
from pathlib import Path

import gitlab
import pytest
import requests

from tests.gitrepos import git
from tests.sandbox.forgehelp import Workspace, github_client
from updater_sandbox import faults
from updater_sandbox.forge import Forge


def test_github_secondary_rate_limit_body_and_pygithub_waits_it_out(forge: Forge) -> None:
    forge.create_repo("acme/gitops")
    forge.inject(faults.secondary_rate_limit(retry_after=1, service="github"))
    raw = requests.get(f"{forge.github_api_url}/repos/acme/gitops", headers={"Authorization": f"token {forge.token}"},
                       timeout=5)
    assert raw.status_code == 403 and raw.headers["Retry-After"] == "1"
    assert raw.json()["message"].startswith("You have exceeded a secondary rate limit")
    forge.inject(faults.secondary_rate_limit(retry_after=1, service="github", path_contains="/repos/"))
    started = time.monotonic()
    gh = github_client(forge)
    assert gh.get_repo("acme/gitops").full_name == "acme/gitops"
    assert time.monotonic() - started >= 1.0
    assert [r.status for r in forge.log_for("github")][-2:] == [403, 200]


def test_github_primary_rate_limit_headers(forge: Forge) -> None:
    forge.inject(faults.rate_limit(retry_after=2, service="github"))
    raw = requests.get(f"{forge.github_api_url}/user", headers={"Authorization": f"token {forge.token}"}, timeout=5)
    assert raw.status_code == 403 and raw.headers["X-RateLimit-Remaining"] == "0"
    assert raw.json()["message"].startswith("API rate limit exceeded")


def test_gitlab_429_with_retry_after_is_obeyed_by_python_gitlab(forge: Forge) -> None:
    forge.create_repo("acme/gitops")
    forge.inject(faults.rate_limit(retry_after=1, service="gitlab"))
    started = time.monotonic()
    project = gitlab.Gitlab(forge.gitlab_api_url, private_token=forge.token).projects.get("acme/gitops")
    assert project.path_with_namespace == "acme/gitops" and time.monotonic() - started >= 1.0
    first, second = forge.log_for("gitlab")[-2:]
    assert (first.status, second.status) == (429, 200)


def test_502_then_recovery(forge: Forge) -> None:
    forge.create_repo("acme/gitops")
    forge.inject(faults.http_status(502, service="gitlab", times=2))
    with pytest.raises(gitlab.GitlabGetError) as err:
        gitlab.Gitlab(forge.gitlab_api_url, private_token=forge.token).projects.get("acme/gitops")
    assert err.value.response_code == 502
    retrying = gitlab.Gitlab(forge.gitlab_api_url, private_token=forge.token, retry_transient_errors=True)
    assert retrying.projects.get("acme/gitops").id == forge.repo("acme/gitops").id
    assert [r.status for r in forge.log_for("gitlab")] == [502, 502, 200]


def test_slow_answers_and_client_timeouts(forge: Forge) -> None:
    forge.inject(faults.slow(0.6, service="github"))
    headers = {"Authorization": f"token {forge.token}"}
    with pytest.raises(requests.ReadTimeout):
        requests.get(f"{forge.github_api_url}/user", headers=headers, timeout=0.2)
    assert requests.get(f"{forge.github_api_url}/user", headers=headers, timeout=5).ok


def test_dropped_connections_fail_one_request_or_push(forge: Forge, tmp_path: Path) -> None:
    forge.create_repo("acme/gitops")
    forge.inject(faults.drop(service="github"))
    headers = {"Authorization": f"token {forge.token}"}
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{forge.github_api_url}/user", headers=headers, timeout=5)
    assert requests.get(f"{forge.github_api_url}/user", headers=headers, timeout=5).ok
    work = Workspace(forge, "acme/gitops", tmp_path)
    # curl silently resends a request whose reused keep-alive connection died, so it takes two drops
    forge.inject(faults.drop(service="git", method="POST", path_contains="git-receive-pack", times=2))
    with pytest.raises(AssertionError):
        work.commit_on("topic", {"a.txt": "a\n"}, "a")
    work.git("push", "-q", "origin", "topic:topic")
    assert forge.repo("acme/gitops").bare.rev_parse("topic") == work.git("rev-parse", "HEAD")


def test_git_with_a_wrong_token_is_refused(forge: Forge, tmp_path: Path) -> None:
    forge.create_repo("acme/gitops")
    url = forge.repo_url("acme/gitops").replace("http://", "http://x:wrong-token-0000@")
    with pytest.raises(AssertionError, match="Authentication failed"):
        git("clone", "-q", url, str(tmp_path / "c"), cwd=tmp_path)
