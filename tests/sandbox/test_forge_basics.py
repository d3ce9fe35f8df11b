"""The forge's core routes through PyGithub and python-gitlab, on a real pushed branch."""

from __future__ import annotations

from pathlib import Path

import github
import gitlab

from tests.sandbox.forgehelp import Workspace, github_client
from updater.sandbox.forge import Forge


def test_pygithub_opens_labels_comments_and_merges(forge: Forge, tmp_path: Path) -> None:
    forge.create_repo("acme/gitops", {"app/deploy.yaml": "image: a:1\n"})
    work = Workspace(forge, "acme/gitops", tmp_path)
    head = work.commit_on("bump", {"app/deploy.yaml": "image: a:2\n"}, "bump a")
    repo = github_client(forge).get_repo("acme/gitops")
    pr = repo.create_pull(base="main", head="bump", title="Bump a", body="auto")
    pr.add_to_labels("updater")
    pr.create_issue_comment("hello")
    assert [p.number for p in repo.get_pulls(state="open", head="acme:bump")] == [pr.number]
    assert [label.name for label in pr.get_labels()] == ["updater"]
    assert pr.head.sha == head and pr.mergeable is True and pr.mergeable_state == "clean"
    result = pr.merge(merge_method="squash", sha=head)
    assert result.merged
    assert forge.repo("acme/gitops").bare.rev_parse("main") == result.sha
    assert forge.repo("acme/gitops").bare.commit(result.sha).parents != (head,)


def test_python_gitlab_opens_notes_and_merges(forge: Forge, tmp_path: Path) -> None:
    forge.create_repo("acme/gitops", {"app/deploy.yaml": "image: a:1\n"}, hook_style="gitlab")
    work = Workspace(forge, "acme/gitops", tmp_path)
    head = work.commit_on("bump", {"app/deploy.yaml": "image: a:2\n"}, "bump a")
    project = gitlab.Gitlab(forge.gitlab_api_url, private_token=forge.token).projects.get("acme/gitops")
    mr = project.mergerequests.create({"source_branch": "bump", "target_branch": "main", "title": "Bump a",
                                       "labels": "updater"})
    mr.notes.create({"body": "hello"})
    found = project.mergerequests.list(state="opened", source_branch="bump", target_branch="main")
    assert [m.iid for m in found] == [mr.iid]
    mr = project.mergerequests.get(mr.iid)
    assert mr.labels == ["updater"] and mr.sha == head and mr.detailed_merge_status == "mergeable"
    mr.merge(sha=head)
    assert project.mergerequests.get(mr.iid).state == "merged"
    assert forge.repo("acme/gitops").bare.is_ancestor(head, "main")
