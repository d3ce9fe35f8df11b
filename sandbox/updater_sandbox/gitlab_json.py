"""GitLab v4 resource bodies (project, branch, merge request, note, pipeline) built from the forge's
state; `schemas.complete` adds the remaining keys the contract requires. Pure functions plus git reads.
"""

from __future__ import annotations

import zlib
from typing import Any

from updater_sandbox.bare import CommitInfo
from updater_sandbox.merging import Mergeability, gitlab_state
from updater_sandbox.state import Comment, Pull, Repo
from updater_sandbox.web import Request

PIPELINE = {"success": "success", "failure": "failed", "pending": "running"}


def user(login: str) -> dict[str, Any]:
    ident = zlib.crc32(login.encode()) % 10_000_000 + 1
    return {"id": ident, "username": login, "name": login, "state": "active", "locked": False,
            "avatar_url": None, "web_url": f"http://127.0.0.1/{login}"}


def project(req: Request, repo: Repo) -> dict[str, Any]:
    web = f"{req.base}/{repo.full_name}"
    s = repo.settings
    return {
        "id": repo.id, "name": repo.name, "path": repo.name, "path_with_namespace": repo.full_name,
        "name_with_namespace": f"{repo.owner} / {repo.name}", "description": None,
        "default_branch": repo.bare.head_branch(), "visibility": "private", "web_url": web,
        "http_url_to_repo": f"{web}.git", "ssh_url_to_repo": f"{web}.git", "created_at": repo.created_at,
        "last_activity_at": repo.created_at, "archived": False, "empty_repo": False,
        "namespace": {"id": zlib.crc32(repo.owner.encode()) % 10_000_000, "name": repo.owner, "path": repo.owner,
                      "kind": "group", "full_path": repo.owner, "web_url": f"{req.base}/{repo.owner}"},
        "merge_method": s.merge_method, "squash_option": "default_off",
        "only_allow_merge_if_pipeline_succeeds": s.only_allow_merge_if_pipeline_succeeds,
        "remove_source_branch_after_merge": s.delete_branch_on_merge,
        "_links": {"self": f"{req.base}/api/v4/projects/{repo.id}",
                   "merge_requests": f"{req.base}/api/v4/projects/{repo.id}/merge_requests",
                   "repo_branches": f"{req.base}/api/v4/projects/{repo.id}/repository/branches"},
    }


def commit(req: Request, repo: Repo, info: CommitInfo) -> dict[str, Any]:
    return {
        "id": info.sha, "short_id": info.sha[:8], "title": info.title, "message": info.message + "\n",
        "parent_ids": list(info.parents), "created_at": info.committer.date,
        "author_name": info.author.name, "author_email": info.author.email, "authored_date": info.author.date,
        "committer_name": info.committer.name, "committer_email": info.committer.email,
        "committed_date": info.committer.date, "trailers": {}, "extended_trailers": {},
        "web_url": f"{req.base}/{repo.full_name}/-/commit/{info.sha}",
    }


def branch(req: Request, repo: Repo, name: str, sha: str) -> dict[str, Any]:
    protected = name in repo.settings.protected
    default = repo.bare.head_branch()
    merged = name != default and repo.bare.is_ancestor(sha, repo.bare.branches().get(default, sha))
    return {"name": name, "merged": merged, "protected": protected, "default": name == default,
            "developers_can_push": not protected, "developers_can_merge": not protected, "can_push": True,
            "web_url": f"{req.base}/{repo.full_name}/-/tree/{name}", "commit": commit(req, repo, repo.bare.commit(sha))}


def pipeline(req: Request, repo: Repo, p: Pull, m: Mergeability) -> dict[str, Any] | None:
    if not m.head_sha or not repo.latest_statuses(m.head_sha):
        return None
    first = repo.statuses_for(m.head_sha)[-1]
    return {"id": first.id, "iid": first.id, "project_id": repo.id, "sha": m.head_sha, "ref": p.head,
            "status": PIPELINE[m.any_ci], "source": "external", "created_at": first.created_at,
            "updated_at": repo.statuses_for(m.head_sha)[0].updated_at,
            "web_url": f"{req.base}/{repo.full_name}/-/pipelines/{first.id}"}


def merge_request(req: Request, repo: Repo, p: Pull, m: Mergeability, *, single: bool = True,
                  extras: tuple[str, ...] = ()) -> dict[str, Any]:
    detailed = gitlab_state(repo, p, m)
    merge_status = {"checking": "checking", "preparing": "checking", "approvals_syncing": "checking",
                    "unchecked": "unchecked", "conflict": "cannot_be_merged"}.get(detailed, "can_be_merged")
    state = "merged" if p.merged else ("opened" if p.state == "open" else "closed")
    auto = p.auto_merge is not None and p.auto_merge.via == "gitlab"
    body: dict[str, Any] = {
        "id": p.id, "iid": p.number, "project_id": repo.id, "title": p.title, "description": p.body or "",
        "state": state, "created_at": p.created_at, "updated_at": p.updated_at,
        "merged_by": user(p.merged_by) if p.merged_by else None, "merge_user": user(p.merged_by) if p.merged_by else None,
        "merged_at": p.merged_at, "closed_by": None, "closed_at": None if p.merged else p.closed_at,
        "target_branch": p.base, "source_branch": p.head, "user_notes_count": len(p.comments),
        "upvotes": 0, "downvotes": 0, "author": user(p.author), "assignees": [user(a) for a in p.assignees],
        "assignee": user(p.assignees[0]) if p.assignees else None,
        "reviewers": [user(r) for r in p.requested_reviewers], "source_project_id": repo.id,
        "target_project_id": repo.id, "labels": list(p.labels), "draft": p.draft, "work_in_progress": p.draft,
        "milestone": None, "merge_when_pipeline_succeeds": auto, "merge_status": merge_status,
        "detailed_merge_status": detailed, "sha": m.head_sha, "merge_commit_sha": p.merge_commit_sha,
        "squash_commit_sha": None, "discussion_locked": None, "should_remove_source_branch": None,
        "force_remove_source_branch": repo.settings.delete_branch_on_merge,
        "reference": f"!{p.number}", "web_url": f"{req.base}/{repo.full_name}/-/merge_requests/{p.number}",
        "references": {"short": f"!{p.number}", "relative": f"!{p.number}", "full": f"{repo.full_name}!{p.number}"},
        "time_stats": {"time_estimate": 0, "total_time_spent": 0, "human_time_estimate": None,
                       "human_total_time_spent": None},
        "squash": False, "squash_on_merge": False, "task_completion_status": {"count": 0, "completed_count": 0},
        "has_conflicts": detailed == "conflict", "blocking_discussions_resolved": True,
        "imported": False, "imported_from": "none", "prepared_at": p.created_at,
    }
    if single:
        head_pipeline = pipeline(req, repo, p, m)
        body.update({
            "subscribed": False, "changes_count": str(len(repo.bare.changed_files(m.base_sha, m.head_sha)))
            if m.head_sha and m.base_sha else None,
            "latest_build_started_at": None, "latest_build_finished_at": None,
            "first_deployed_to_production_at": None, "pipeline": head_pipeline, "head_pipeline": head_pipeline,
            "diff_refs": {"base_sha": m.base_sha, "head_sha": m.head_sha,
                          "start_sha": m.base_sha} if m.head_sha and m.base_sha else None,
            "merge_error": p.merge_error, "first_contribution": False, "user": {"can_merge": True},
        })
        if "rebase_in_progress" in extras:
            body["rebase_in_progress"] = p.rebase_in_progress
        if "diverged_commits_count" in extras:
            body["diverged_commits_count"] = (repo.bare.count(m.head_sha, m.base_sha)
                                              if m.head_sha and m.base_sha else 0)
    return body


def note(repo: Repo, p: Pull, c: Comment) -> dict[str, Any]:
    return {"id": c.id, "type": None, "body": c.body, "attachment": None, "author": user(c.author),
            "created_at": c.created_at, "updated_at": c.updated_at, "system": c.system, "noteable_id": p.id,
            "noteable_type": "MergeRequest", "project_id": repo.id, "commit_id": None, "resolvable": False,
            "resolved": False, "resolved_by": None, "resolved_at": None, "confidential": False,
            "internal": False, "imported": False, "imported_from": "none", "noteable_iid": p.number,
            "commands_changes": {}}
