"""The issue's full scenario, once per client library: push a branch with git, open a PR/MR, label
and comment, watch mergeability settle, move the base, update/rebase, enable auto-merge, report CI
green, and see it merge — with every response validated by the `forge` fixture."""

from __future__ import annotations

from pathlib import Path

import gitlab

from tests.sandbox.forgehelp import Workspace, github_client, wait_for
from updater_sandbox.forge import Forge
from updater_sandbox.state import Protection

FILES = {"app/deploy.yaml": "image: acme/api:1.0.0\n", "other/deploy.yaml": "image: acme/web:1.0.0\n"}


def test_pygithub_full_pull_request_lifecycle(forge: Forge, tmp_path: Path) -> None:
    forge.create_repo("acme/gitops", FILES)
    forge.protect("acme/gitops", "main", Protection(required_contexts=("ci",), strict=True, allow_direct_push=True))
    forge.mergeability_delay = 0.3
    work = Workspace(forge, "acme/gitops", tmp_path)
    head = work.commit_on("updater/api", {"app/deploy.yaml": "image: acme/api:1.1.0\n"}, "api 1.1.0")
    repo = github_client(forge).get_repo("acme/gitops")

    pr = repo.create_pull(base="main", head="updater/api", title="api 1.1.0", body="bump")
    pr.set_labels("updater", "automerge")
    pr.create_issue_comment("opened by updater")
    assert (pr.mergeable, pr.mergeable_state) == (None, "unknown")
    forge.set_status("acme/gitops", head, "success")
    settled = wait_for(lambda: (p := repo.get_pull(pr.number)).mergeable is not None and p)
    assert (settled.mergeable, settled.mergeable_state) == (True, "clean")

    work.commit_on("main", {"other/deploy.yaml": "image: acme/web:2.0.0\n"}, "web 2.0.0")
    behind = wait_for(lambda: (p := repo.get_pull(pr.number)).mergeable is not None and p)
    assert behind.mergeable_state == "behind"

    assert behind.update_branch(expected_head_sha=head)
    updated = wait_for(lambda: (p := repo.get_pull(pr.number)).mergeable is not None and p)
    assert updated.head.sha != head and updated.mergeable_state == "blocked"  # new head: CI not reported
    assert forge.repo("acme/gitops").bare.is_ancestor(repo.get_branch("main").commit.sha, updated.head.sha)

    updated.enable_automerge(merge_method="SQUASH")
    assert repo.get_pull(pr.number).auto_merge["merge_method"] == "squash"
    assert not repo.get_pull(pr.number).merged
    repo.get_commit(updated.head.sha).create_status("success", context="ci", description="green")
    merged = wait_for(lambda: (p := repo.get_pull(pr.number)).merged and p)
    main = repo.get_branch("main").commit.sha
    assert merged.merge_commit_sha == main
    tree = forge.repo("acme/gitops").bare.git("show", f"{main}:app/deploy.yaml").out
    assert tree == "image: acme/api:1.1.0\n"
    assert [label.name for label in merged.labels] == ["updater", "automerge"]
    assert [c.body for c in merged.get_issue_comments()] == ["opened by updater"]


def test_python_gitlab_full_merge_request_lifecycle(forge: Forge, tmp_path: Path) -> None:
    forge.create_repo("acme/gitops", FILES, hook_style="gitlab")
    forge.settings("acme/gitops").merge_method = "ff"
    forge.settings("acme/gitops").only_allow_merge_if_pipeline_succeeds = True
    forge.mergeability_delay = 0.3
    forge.rebase_delay = 0.2
    work = Workspace(forge, "acme/gitops", tmp_path)
    head = work.commit_on("updater/api", {"app/deploy.yaml": "image: acme/api:1.1.0\n"}, "api 1.1.0")
    gl = gitlab.Gitlab(forge.gitlab_api_url, private_token=forge.token)
    project = gl.projects.get("acme/gitops")

    mr = project.mergerequests.create({"source_branch": "updater/api", "target_branch": "main",
                                       "title": "api 1.1.0", "labels": ["updater"]})
    mr.notes.create({"body": "opened by updater"})
    checking = forge.options.gitlab_checking_status  # "unchecked" by default, as current GitLab says
    assert project.mergerequests.get(mr.iid).detailed_merge_status == checking
    forge.set_status("acme/gitops", head, "success")
    assert wait_for(lambda: project.mergerequests.get(mr.iid).detailed_merge_status != checking)
    assert project.mergerequests.get(mr.iid).detailed_merge_status == "mergeable"

    work.commit_on("main", {"other/deploy.yaml": "image: acme/web:2.0.0\n"}, "web 2.0.0")
    status = wait_for(lambda: (s := project.mergerequests.get(mr.iid).detailed_merge_status) != checking and s)
    assert status == "need_rebase"

    assert mr.rebase() == {"rebase_in_progress": True}
    done = wait_for(lambda: not (m := project.mergerequests.get(mr.iid, include_rebase_in_progress=True))
                    .rebase_in_progress and m)
    assert done.merge_error is None and done.sha != head

    forge.set_status("acme/gitops", done.sha, "running")
    mr = project.mergerequests.get(mr.iid)
    mr.merge(auto_merge=True, sha=done.sha)
    mr = project.mergerequests.get(mr.iid)
    assert mr.state == "opened" and mr.merge_when_pipeline_succeeds is True
    assert mr.head_pipeline["status"] == "running"
    forge.set_status("acme/gitops", done.sha, "success")
    merged = wait_for(lambda: (m := project.mergerequests.get(mr.iid)).state == "merged" and m)
    assert project.branches.get("main").commit["id"] == done.sha  # fast-forward: the rebased head itself
    assert merged.labels == ["updater"]
    assert [n.body for n in merged.notes.list()] == ["opened by updater"]
