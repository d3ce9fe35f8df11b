"""GitHub REST routes beyond the PR happy path: git refs, compare, commits, statuses, reviewers,
comment edits, close/reopen, and the pull request's commits — through PyGithub where it has a call."""

from __future__ import annotations

from pathlib import Path

import github
import pytest

from tests.sandbox.forgehelp import Workspace, github_client
from updater_sandbox.forge import Forge


def _setup(forge: Forge, tmp_path: Path) -> tuple[Workspace, github.Repository.Repository]:
    forge.create_repo("acme/gitops", {"a.txt": "a\n"})
    return Workspace(forge, "acme/gitops", tmp_path), github_client(forge).get_repo("acme/gitops")


def test_git_refs_create_fast_forward_force_and_delete(forge: Forge, tmp_path: Path) -> None:
    work, repo = _setup(forge, tmp_path)
    main = repo.get_git_ref("heads/main").object.sha
    ref = repo.create_git_ref("refs/heads/updater/x", main)
    assert ref.ref == "refs/heads/updater/x"
    with pytest.raises(github.GithubException) as exists:
        repo.create_git_ref("refs/heads/updater/x", main)
    assert exists.value.status == 422
    ahead = work.commit_on("topic", {"a.txt": "b\n"}, "b")
    ref.edit(ahead)
    assert repo.get_branch("updater/x").commit.sha == ahead
    with pytest.raises(github.GithubException) as not_ff:
        ref.edit(main)
    assert not_ff.value.status == 422 and "fast forward" in str(not_ff.value.data)
    ref.edit(main, force=True)
    assert [r.ref for r in repo.get_git_matching_refs("heads/updater/")] == ["refs/heads/updater/x"]
    ref.delete()
    assert "updater/x" not in [b.name for b in repo.get_branches()]


def test_compare_commits_and_statuses(forge: Forge, tmp_path: Path) -> None:
    work, repo = _setup(forge, tmp_path)
    head = work.commit_on("topic", {"a.txt": "b\n", "c.txt": "c\n"}, "two files")
    comparison = repo.compare("main", "topic")
    assert (comparison.status, comparison.ahead_by, comparison.behind_by) == ("ahead", 1, 0)
    assert sorted(f.filename for f in comparison.files) == ["a.txt", "c.txt"]
    commit = repo.get_commit(head)
    assert commit.commit.message == "two files\n" or commit.commit.message.startswith("two files")
    commit.create_status("pending", context="ci")
    commit.create_status("success", context="ci", description="green")
    commit.create_status("failure", context="lint")
    combined = commit.get_combined_status()
    assert combined.state == "failure" and {s.context: s.state for s in combined.statuses} == {
        "ci": "success", "lint": "failure"}
    assert [s.state for s in commit.get_statuses()] == ["failure", "success", "pending"]
    assert commit.get_check_runs().totalCount == 0
    with pytest.raises(github.GithubException) as bad:
        commit.create_status("purple")
    assert bad.value.status == 422


def test_reviewers_comments_close_reopen_and_commits(forge: Forge, tmp_path: Path) -> None:
    work, repo = _setup(forge, tmp_path)
    work.commit_on("topic", {"a.txt": "b\n"}, "one")
    work.commit_on("topic", {"a.txt": "c\n"}, "two")
    pr = repo.create_pull(base="main", head="topic", title="t", draft=True)
    assert repo.get_pull(pr.number).mergeable_state == "draft"
    pr.create_review_request(reviewers=["alice", "bob"])
    pr.delete_review_request(reviewers=["bob"])
    users, teams = pr.get_review_requests()
    assert [u.login for u in users] == ["alice"] and teams.totalCount == 0
    comment = pr.create_issue_comment("first")
    comment.edit("edited")
    assert [c.body for c in pr.get_issue_comments()] == ["edited"]
    assert [c.commit.message.splitlines()[0] for c in pr.get_commits()] == ["one", "two"]
    pr.edit(state="closed")
    assert repo.get_pull(pr.number).state == "closed" and not pr.is_merged()
    assert [p.number for p in repo.get_pulls(state="closed")] == [pr.number]
    pr.edit(state="open", title="renamed")
    assert repo.get_pull(pr.number).title == "renamed" and repo.get_issue(pr.number).state == "open"
    pr.set_labels("x", "y")
    pr.remove_from_labels("x")
    assert [label.name for label in repo.get_issue(pr.number).labels] == ["y"]


def test_assignees_are_added_to_the_pull_request(forge: Forge, tmp_path: Path) -> None:
    work, repo = _setup(forge, tmp_path)
    work.commit_on("topic", {"a.txt": "b\n"}, "one")
    pr = repo.create_pull(base="main", head="topic", title="t")
    pr.add_to_assignees("alice", "bob")
    pr.add_to_assignees("alice")
    assert [u.login for u in repo.get_pull(pr.number).assignees] == ["alice", "bob"]
    assert [u.login for u in repo.get_issue(pr.number).assignees] == ["alice", "bob"]


def test_account_and_rate_limit(forge: Forge) -> None:
    gh = github_client(forge)
    assert gh.get_user().login == "sandbox-bot"
    assert gh.get_rate_limit().resources.core.remaining == 4999
