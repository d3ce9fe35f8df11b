"""GitLab v4 routes beyond the MR happy path: branches, list filters and views, close/reopen, note
edits, cancelling auto-merge, merge refusals, external commit statuses as the head pipeline."""

from __future__ import annotations

from pathlib import Path

import gitlab
import pytest
import requests

from tests.sandbox.forgehelp import Workspace
from updater_sandbox.forge import Forge


def _project(forge: Forge, tmp_path: Path) -> tuple[Workspace, gitlab.v4.objects.Project]:
    forge.create_repo("acme/gitops", {"a.txt": "a\n"}, hook_style="gitlab")
    work = Workspace(forge, "acme/gitops", tmp_path)
    return work, gitlab.Gitlab(forge.gitlab_api_url, private_token=forge.token).projects.get("acme/gitops")


def test_branches_create_list_get_delete(forge: Forge, tmp_path: Path) -> None:
    _, project = _project(forge, tmp_path)
    created = project.branches.create({"branch": "updater/x", "ref": "main"})
    assert created.name == "updater/x" and created.merged is True  # same commit as main
    with pytest.raises(gitlab.GitlabCreateError) as exists:
        project.branches.create({"branch": "updater/x", "ref": "main"})
    assert exists.value.response_code == 400
    assert [b.name for b in project.branches.list(search="updater")] == ["updater/x"]
    assert project.branches.get("main").default is True
    project.branches.delete("updater/x")
    with pytest.raises(gitlab.GitlabGetError):
        project.branches.get("updater/x")


def test_filters_views_close_reopen_and_notes(forge: Forge, tmp_path: Path) -> None:
    work, project = _project(forge, tmp_path)
    for name in ("one", "two"):
        work.commit_on(name, {f"{name}.txt": name}, name)
        project.mergerequests.create({"source_branch": name, "target_branch": "main", "title": name})
    assert [m.iid for m in project.mergerequests.list(source_branch="two")] == [2]
    simple = project.mergerequests.list(view="simple")
    assert sorted(simple[0].attributes) == sorted(
        ["id", "iid", "project_id", "title", "description", "state", "created_at", "updated_at", "web_url"])
    mr = project.mergerequests.get(1)
    mr.state_event = "close"
    mr.save()
    assert [m.iid for m in project.mergerequests.list(state="closed")] == [1]
    mr.state_event = "reopen"
    mr.save()
    assert project.mergerequests.get(1).state == "opened"
    note = mr.notes.create({"body": "first"})
    note.body = "edited"
    note.save()
    mr.notes.create({"body": "second"})
    assert [n.body for n in mr.notes.list(sort="asc")] == ["edited", "second"]
    assert mr.notes.get(note.id).body == "edited"
    assert project.mergerequests.get(1, include_diverged_commits_count=True).diverged_commits_count == 0


def test_auto_merge_waits_for_the_pipeline_and_can_be_cancelled(forge: Forge, tmp_path: Path) -> None:
    work, project = _project(forge, tmp_path)
    head = work.commit_on("topic", {"a.txt": "b\n"}, "b")
    mr = project.mergerequests.create({"source_branch": "topic", "target_branch": "main", "title": "b"})
    status = requests.post(f"{forge.url}/api/v4/projects/{project.id}/statuses/{head}",
                           data={"state": "running", "name": "ci"}, headers={"PRIVATE-TOKEN": forge.token}, timeout=5)
    assert status.status_code == 201 and status.json()["status"] == "running"
    mr.merge(auto_merge=True)
    assert project.mergerequests.get(mr.iid).merge_when_pipeline_succeeds is True
    mr.cancel_merge_when_pipeline_succeeds()
    assert project.mergerequests.get(mr.iid).merge_when_pipeline_succeeds is False
    with pytest.raises(gitlab.GitlabMROnBuildSuccessError):
        mr.cancel_merge_when_pipeline_succeeds()  # nothing to cancel: 406
    forge.set_status("acme/gitops", head, "failed", context="ci")
    mr = project.mergerequests.get(mr.iid)
    assert mr.head_pipeline["status"] == "failed" and mr.state == "opened"


def test_merge_refusals(forge: Forge, tmp_path: Path) -> None:
    work, project = _project(forge, tmp_path)
    forge.settings("acme/gitops").only_allow_merge_if_pipeline_succeeds = True
    head = work.commit_on("topic", {"a.txt": "b\n"}, "b")
    mr = project.mergerequests.create({"source_branch": "topic", "target_branch": "main", "title": "b"})
    forge.set_status("acme/gitops", head, "failed")
    assert project.mergerequests.get(mr.iid).detailed_merge_status == "ci_must_pass"
    with pytest.raises(gitlab.GitlabMRClosedError) as refused:
        mr.merge()
    assert refused.value.response_code == 405
    with pytest.raises(gitlab.GitlabMRClosedError) as stale:
        mr.merge(sha="0" * 40)
    assert stale.value.response_code == 409 and head in str(stale.value)
    forge.set_status("acme/gitops", head, "success")
    mr.merge(should_remove_source_branch=True)
    assert project.mergerequests.get(mr.iid).state == "merged"
    assert "topic" not in [b.name for b in project.branches.list()]
    with pytest.raises(gitlab.GitlabMRClosedError):
        mr.merge()  # already merged: 405


def test_users_are_looked_up_by_name_and_assigned_by_id(forge: Forge, tmp_path: Path) -> None:
    work, project = _project(forge, tmp_path)
    work.commit_on("topic", {"b.txt": "b"}, "b")
    client = gitlab.Gitlab(forge.gitlab_api_url, private_token=forge.token)
    alice, bob = (client.users.list(username=name)[0] for name in ("alice", "bob"))
    assert (alice.username, bob.username) == ("alice", "bob") and alice.id != bob.id
    mr = project.mergerequests.create({"source_branch": "topic", "target_branch": "main", "title": "t",
                                       "assignee_ids": [alice.id]})
    project.mergerequests.update(mr.iid, {"reviewer_ids": [bob.id]})
    pull = forge.pull("acme/gitops", mr.iid)
    assert pull.assignees == ["alice"] and pull.requested_reviewers == ["bob"]
    assert [u["username"] for u in project.mergerequests.get(mr.iid).reviewers] == ["bob"]
    with pytest.raises(gitlab.GitlabUpdateError) as unknown:
        project.mergerequests.update(mr.iid, {"assignee_ids": [424242]})
    assert unknown.value.response_code == 400
