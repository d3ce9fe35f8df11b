"""The real behaviours behind `Forge.options` (`updater_sandbox.options`): each off by default, and when
on, answered with the services' own status and wording — through PyGithub, python-gitlab, real git."""

from __future__ import annotations

import dataclasses
import subprocess
import time
from pathlib import Path
from typing import Any

import github
import gitlab
import pytest
import requests

from tests.gitrepos import askpass_env
from tests.sandbox.forgehelp import Workspace, github_client, wait_for
from updater_sandbox import faults
from updater_sandbox.forge import Forge
from updater_sandbox.options import ForgeOptions, parse
from updater_sandbox.state import Protection

ENABLE = """mutation($input: EnablePullRequestAutoMergeInput!) {
  enablePullRequestAutoMerge(input: $input) { pullRequest { autoMergeRequest { mergeMethod } } } }"""


def _on(forge: Forge, **changes: Any) -> None:
    forge.options = dataclasses.replace(forge.options, **changes)


def _gql(forge: Forge, query: str, **variables: Any) -> dict[str, Any]:
    answer = requests.post(f"{forge.url}/api/graphql", json={"query": query, "variables": variables},
                           headers={"Authorization": f"bearer {forge.token}"}, timeout=10)
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


def _github_pr(forge: Forge, tmp_path: Path) -> tuple[Workspace, github.PullRequest.PullRequest]:
    forge.create_repo("acme/gitops", {"a.txt": "a\n"})
    work = Workspace(forge, "acme/gitops", tmp_path)
    work.commit_on("topic", {"a.txt": "a2\n"}, "a2")
    return work, github_client(forge).get_repo("acme/gitops").create_pull(base="main", head="topic", title="a2")


def _enable(forge: Forge, pr: github.PullRequest.PullRequest, head: str | None = None) -> dict[str, Any]:
    inp: dict[str, Any] = {"pullRequestId": pr.node_id, "mergeMethod": "MERGE"}
    if head:
        inp["expectedHeadOid"] = head
    return _gql(forge, ENABLE, input=inp)


def test_defaults_are_the_real_behaviours_updater_handles() -> None:
    assert ForgeOptions() == ForgeOptions(
        auto_merge_needs_pipeline=False, pipeline_after=None, gitlab_checking_status="unchecked", head_lag=0.5,
        auto_merge_needs_protection=False, actions_may_create_pulls=True, collaborators=None)
    with pytest.raises(ValueError, match="gitlab_checking_status"):
        ForgeOptions(gitlab_checking_status="thinking")


def _gitlab_mr(forge: Forge, tmp_path: Path) -> tuple[Workspace, Any]:
    forge.create_repo("acme/gitops", {"a.txt": "a\n"}, hook_style="gitlab")
    work = Workspace(forge, "acme/gitops", tmp_path)
    work.commit_on("topic", {"a.txt": "a2\n"}, "a2")
    project = gitlab.Gitlab(forge.gitlab_api_url, private_token=forge.token).projects.get("acme/gitops")
    return work, project.mergerequests.create({"source_branch": "topic", "target_branch": "main", "title": "a2"})


def test_gitlab_refuses_auto_merge_until_the_head_has_a_pipeline(forge: Forge, tmp_path: Path) -> None:
    _on(forge, auto_merge_needs_pipeline=True)
    _, mr = _gitlab_mr(forge, tmp_path)
    with pytest.raises(gitlab.GitlabMRClosedError) as refused:
        mr.merge(merge_when_pipeline_succeeds=True)
    assert refused.value.response_code == 405 and "405 Method Not Allowed" in str(refused.value)
    assert forge.pull("acme/gitops", mr.iid).state == "open"
    forge.set_status("acme/gitops", "topic", "running")  # the pipeline GitLab creates a moment later
    mr.merge(merge_when_pipeline_succeeds=True)
    assert forge.pull("acme/gitops", mr.iid).auto_merge is not None
    forge.set_status("acme/gitops", "topic", "success")
    assert wait_for(lambda: forge.pull("acme/gitops", mr.iid).merged)


def test_gitlab_creates_the_pipeline_a_moment_after_the_mr(forge: Forge, tmp_path: Path) -> None:
    _on(forge, auto_merge_needs_pipeline=True, pipeline_after=0.3)
    _, mr = _gitlab_mr(forge, tmp_path)
    with pytest.raises(gitlab.GitlabMRClosedError):
        mr.merge(merge_when_pipeline_succeeds=True)  # right after creation: no pipeline yet
    repo = forge.repo("acme/gitops")
    head = repo.bare.rev_parse("refs/heads/topic") or ""
    created = wait_for(lambda: repo.latest_statuses(head).get("ci"))
    assert created is not None and (created.state, created.creator) == ("pending", "gitlab-ci")
    assert mr.manager.get(mr.iid).head_pipeline is not None
    mr.merge(merge_when_pipeline_succeeds=True)
    forge.set_status("acme/gitops", "topic", "success")
    assert wait_for(lambda: forge.pull("acme/gitops", mr.iid).merged)


def test_without_the_option_gitlab_merges_a_pipeline_less_mr_at_once(forge: Forge, tmp_path: Path) -> None:
    _, mr = _gitlab_mr(forge, tmp_path)
    mr.merge(merge_when_pipeline_succeeds=True)
    assert forge.pull("acme/gitops", mr.iid).merged


@pytest.mark.parametrize("word", ["unchecked", "preparing", "approvals_syncing"])
def test_gitlab_says_its_newer_words_while_checking(forge: Forge, tmp_path: Path, word: str) -> None:
    forge.mergeability_delay = 30.0
    _on(forge, gitlab_checking_status=word)
    _, mr = _gitlab_mr(forge, tmp_path)
    fresh = mr.manager.get(mr.iid)
    assert fresh.detailed_merge_status == word
    assert fresh.merge_status == ("unchecked" if word == "unchecked" else "checking")


def test_pull_head_lags_a_push_and_expected_head_is_refused_meanwhile(forge: Forge, tmp_path: Path) -> None:
    work, pr = _github_pr(forge, tmp_path)
    forge.protect("acme/gitops", "main", Protection(required_contexts=("ci",), allow_direct_push=True))
    _on(forge, head_lag=1.0)
    old = pr.head.sha
    new = work.commit_on("topic", {"a.txt": "a3\n"}, "a3")
    repo = github_client(forge).get_repo("acme/gitops")
    lagging = repo.get_pull(pr.number)
    assert lagging.head.sha == old and lagging.mergeable is None and lagging.mergeable_state == "unknown"
    project = gitlab.Gitlab(forge.gitlab_api_url, private_token=forge.token).projects.get("acme/gitops")
    assert project.mergerequests.get(pr.number).sha == new  # GitLab's view does not lag
    refused = _enable(forge, pr, head=new)
    assert refused["data"]["enablePullRequestAutoMerge"] is None and "expected head" in refused["errors"][0]["message"]
    time.sleep(1.1)
    assert repo.get_pull(pr.number).head.sha == new
    assert _enable(forge, pr, head=new)["data"]["enablePullRequestAutoMerge"]["pullRequest"]["autoMergeRequest"]


def test_auto_merge_needs_protection_rules_on_the_base(forge: Forge, tmp_path: Path) -> None:
    _on(forge, auto_merge_needs_protection=True)
    _, pr = _github_pr(forge, tmp_path)
    refused = _enable(forge, pr)
    assert refused["errors"][0]["message"] == "Pull request Protected branch rules not configured for this branch"
    forge.protect("acme/gitops", "main", Protection(required_contexts=("ci",)))
    assert "errors" not in _enable(forge, pr)


def test_actions_token_may_not_open_pull_requests(forge: Forge, tmp_path: Path) -> None:
    forge.create_repo("acme/gitops", {"a.txt": "a\n"})
    forge.commit("acme/gitops", "topic", {"a.txt": "a2\n"}, "a2")
    _on(forge, actions_may_create_pulls=False)
    repo = github_client(forge).get_repo("acme/gitops")
    with pytest.raises(github.GithubException) as refused:
        repo.create_pull(base="main", head="topic", title="a2")
    assert refused.value.status == 403
    assert refused.value.data["message"] == "GitHub Actions is not permitted to create or approve pull requests."
    assert not forge.repo("acme/gitops").pulls


def test_reviewers_must_be_collaborators(forge: Forge, tmp_path: Path) -> None:
    _, pr = _github_pr(forge, tmp_path)
    _on(forge, collaborators=frozenset({"alice"}))
    pr.create_review_request(reviewers=["alice"])
    with pytest.raises(github.GithubException) as refused:
        pr.create_review_request(reviewers=["mallory"])
    assert refused.value.status == 422
    assert refused.value.data["message"].startswith("Reviews may only be requested from collaborators.")
    assert "acme/gitops repository" in refused.value.data["message"]
    assert forge.pull("acme/gitops", pr.number).requested_reviewers == ["alice"]


def test_git_urls_without_dot_git(forge: Forge, tmp_path: Path) -> None:
    forge.create_repo("acme/gitops", {"a.txt": "a\n"})
    env = askpass_env(tmp_path, forge.token)
    url = f"{forge.url}/acme/gitops"

    def clone(dest: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", "clone", "-q", url, str(tmp_path / dest)], env=env, capture_output=True,
                              text=True, timeout=60)

    # the real default, so the forge's too (git_http.repository_path): no option turns it off
    assert clone("after").returncode == 0, clone("again").stderr
    assert (tmp_path / "after" / "a.txt").read_text() == "a\n"


def test_secondary_rate_limit_without_retry_after(forge: Forge) -> None:
    forge.create_repo("acme/gitops")
    forge.inject(faults.secondary_rate_limit(retry_after=None, service="github"))
    answer = requests.get(f"{forge.github_api_url}/repos/acme/gitops",
                          headers={"Authorization": f"token {forge.token}"}, timeout=10)
    assert answer.status_code == 403 and "Retry-After" not in answer.headers
    assert answer.json()["message"].startswith("You have exceeded a secondary rate limit.")


def test_options_parse_from_text() -> None:
    got = parse("head_lag=2, auto_merge_needs_pipeline=1,collaborators=alice:bob,gitlab_checking_status=preparing,"
                "pipeline_after=0.5")
    assert got == ForgeOptions(head_lag=2.0, auto_merge_needs_pipeline=True, collaborators=frozenset({"alice", "bob"}),
                               gitlab_checking_status="preparing", pipeline_after=0.5)
    assert parse("") == ForgeOptions()
    with pytest.raises(ValueError, match="unknown forge option 'lag'"):
        parse("lag=1")
