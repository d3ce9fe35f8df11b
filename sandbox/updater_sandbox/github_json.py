"""GitHub REST v3 resource bodies built from the forge's state and its bare repositories.

Each builder spells out the keys a PR bot reads (with absolute URLs under the base URL the client
used, which PyGithub insists on); `updater_sandbox.schemas.complete` fills every other key the
contract requires. Pure functions of their arguments, plus git reads.
"""

from __future__ import annotations

import zlib
from typing import Any, cast

from updater_sandbox import schemas
from updater_sandbox.bare import CommitInfo
from updater_sandbox.merging import Mergeability, github_state
from updater_sandbox.state import Comment, Pull, Repo, Status
from updater_sandbox.web import Request

DOCS = "https://docs.github.com/rest"


def api(req: Request) -> str:
    return f"{req.base}{req.prefix}"


def user_id(login: str) -> int:
    return zlib.crc32(login.encode()) % 10_000_000 + 1


def user(req: Request, login: str) -> dict[str, Any]:
    u = f"{api(req)}/users/{login}"
    return cast(dict[str, Any], schemas.complete_with("github", {"$ref": "#/components/schemas/simple-user"}, {
        "login": login, "id": user_id(login), "node_id": f"U_{user_id(login)}",
        "type": "Bot" if login.endswith("[bot]") else "User", "site_admin": False,
        "url": u, "html_url": f"{req.base}/{login}", "avatar_url": f"{req.base}/avatars/{login}",
        "gravatar_id": "", "user_view_type": "public",
        **{f"{k}_url": f"{u}/{k}" for k in ("events", "followers", "following", "gists", "organizations",
                                             "received_events", "repos", "starred", "subscriptions")},
    }))


def repository(req: Request, repo: Repo) -> dict[str, Any]:
    r = f"{api(req)}/repos/{repo.full_name}"
    s = repo.settings
    open_count = sum(1 for p in repo.pulls.values() if p.state == "open")
    return {
        "id": repo.id, "node_id": f"R_{repo.id}", "name": repo.name, "full_name": repo.full_name,
        "owner": user(req, repo.owner), "private": True, "fork": False, "description": None,
        "url": r, "html_url": f"{req.base}/{repo.full_name}",
        "clone_url": f"{req.base}/{repo.full_name}.git", "git_url": f"{req.base}/{repo.full_name}.git",
        "ssh_url": f"{req.base}/{repo.full_name}.git", "svn_url": f"{req.base}/{repo.full_name}",
        "pulls_url": f"{r}/pulls{{/number}}", "issues_url": f"{r}/issues{{/number}}",
        "statuses_url": f"{r}/statuses/{{sha}}", "branches_url": f"{r}/branches{{/branch}}",
        "git_refs_url": f"{r}/git/refs{{/sha}}", "compare_url": f"{r}/compare/{{base}}...{{head}}",
        "commits_url": f"{r}/commits{{/sha}}", "labels_url": f"{r}/labels{{/name}}",
        "default_branch": repo.bare.head_branch(), "visibility": "private",
        "allow_auto_merge": s.allow_auto_merge, "allow_merge_commit": s.allow_merge_commit,
        "allow_squash_merge": s.allow_squash_merge, "allow_rebase_merge": s.allow_rebase_merge,
        "delete_branch_on_merge": s.delete_branch_on_merge, "allow_update_branch": True,
        "open_issues": open_count, "open_issues_count": open_count,
        "permissions": {"admin": True, "maintain": True, "push": True, "triage": True, "pull": True},
        "created_at": repo.created_at, "updated_at": repo.created_at, "pushed_at": repo.created_at,
        "has_issues": True, "has_wiki": False, "has_pages": False, "has_projects": False,
        "has_downloads": False, "has_discussions": False, "archived": False, "disabled": False,
        # read by PyGithub's Repository (keys github.com sends on every repository)
        "allow_forking": True, "is_template": False, "web_commit_signoff_required": False, "topics": [],
        "temp_clone_token": "", "use_squash_pr_title_as_default": False,
        "squash_merge_commit_title": "COMMIT_OR_PR_TITLE", "squash_merge_commit_message": "COMMIT_MESSAGES",
        "merge_commit_title": "MERGE_MESSAGE", "merge_commit_message": "PR_TITLE",
    }


def commit(req: Request, repo: Repo, info: CommitInfo) -> dict[str, Any]:
    r = f"{api(req)}/repos/{repo.full_name}"
    return {
        "sha": info.sha, "node_id": f"C_{info.sha}", "url": f"{r}/commits/{info.sha}",
        "html_url": f"{req.base}/{repo.full_name}/commit/{info.sha}",
        "comments_url": f"{r}/commits/{info.sha}/comments",
        "commit": {
            "url": f"{r}/git/commits/{info.sha}", "message": info.message, "comment_count": 0,
            "author": {"name": info.author.name, "email": info.author.email, "date": info.author.date},
            "committer": {"name": info.committer.name, "email": info.committer.email, "date": info.committer.date},
            "tree": {"sha": info.tree, "url": f"{r}/git/trees/{info.tree}"},
        },
        "author": None, "committer": None,
        "parents": [{"sha": p, "url": f"{r}/commits/{p}", "html_url": f"{req.base}/{repo.full_name}/commit/{p}"}
                    for p in info.parents],
    }


def ref(req: Request, repo: Repo, name: str, sha: str) -> dict[str, Any]:
    r = f"{api(req)}/repos/{repo.full_name}"
    return {"ref": name, "node_id": f"REF_{repo.id}_{name}", "url": f"{r}/git/{name}",
            "object": {"type": "commit", "sha": sha, "url": f"{r}/git/commits/{sha}"}}


def branch(req: Request, repo: Repo, name: str, sha: str) -> dict[str, Any]:
    r = f"{api(req)}/repos/{repo.full_name}"
    protection = repo.settings.protected.get(name)
    checks = {"enforcement_level": "non_admins" if protection else "off",
              "contexts": list(protection.required_contexts) if protection else [], "checks": []}
    return {
        "name": name, "commit": commit(req, repo, repo.bare.commit(sha)), "protected": protection is not None,
        "protection": {"enabled": protection is not None, "required_status_checks": checks},
        "protection_url": f"{r}/branches/{name}/protection",
        "_links": {"self": f"{r}/branches/{name}", "html": f"{req.base}/{repo.full_name}/tree/{name}"},
    }


def label(req: Request, repo: Repo, name: str, ident: int, color: str) -> dict[str, Any]:
    return {"id": ident, "node_id": f"LA_{ident}", "url": f"{api(req)}/repos/{repo.full_name}/labels/{name}",
            "name": name, "description": "", "color": color, "default": False}


def labels(req: Request, repo: Repo, pull: Pull) -> list[dict[str, Any]]:
    return [label(req, repo, n, *repo.labels[n]) for n in pull.labels]


def comment(req: Request, repo: Repo, pull: Pull, c: Comment) -> dict[str, Any]:
    r = f"{api(req)}/repos/{repo.full_name}"
    return {"id": c.id, "node_id": f"IC_{c.id}", "url": f"{r}/issues/comments/{c.id}",
            "html_url": f"{req.base}/{repo.full_name}/pull/{pull.number}#issuecomment-{c.id}",
            "issue_url": f"{r}/issues/{pull.number}", "body": c.body, "user": user(req, c.author),
            "created_at": c.created_at, "updated_at": c.updated_at, "author_association": "MEMBER"}


def status(req: Request, repo: Repo, s: Status) -> dict[str, Any]:
    return {"id": s.id, "node_id": f"SC_{s.id}", "url": f"{api(req)}/repos/{repo.full_name}/statuses/{s.sha}",
            "avatar_url": None, "state": s.state, "description": s.description, "target_url": s.target_url,
            "context": s.context, "created_at": s.created_at, "updated_at": s.updated_at,
            "creator": user(req, s.creator)}


def _side(req: Request, repo: Repo, branch_name: str, sha: str | None) -> dict[str, Any]:
    return {"label": f"{repo.owner}:{branch_name}", "ref": branch_name, "sha": sha or "0" * 40,
            "user": user(req, repo.owner), "repo": repository(req, repo)}


def pull(req: Request, repo: Repo, p: Pull, m: Mergeability, *, full: bool = True) -> dict[str, Any]:
    r = f"{api(req)}/repos/{repo.full_name}"
    html = f"{req.base}/{repo.full_name}/pull/{p.number}"
    body: dict[str, Any] = {
        "id": p.id, "node_id": f"PR_{p.id}", "number": p.number, "state": p.state, "locked": False,
        "active_lock_reason": None,
        "title": p.title, "body": p.body, "draft": p.draft, "user": user(req, p.author),
        "url": f"{r}/pulls/{p.number}", "html_url": html, "diff_url": f"{html}.diff", "patch_url": f"{html}.patch",
        "issue_url": f"{r}/issues/{p.number}", "commits_url": f"{r}/pulls/{p.number}/commits",
        "review_comments_url": f"{r}/pulls/{p.number}/comments",
        "review_comment_url": f"{r}/pulls/comments{{/number}}",
        "comments_url": f"{r}/issues/{p.number}/comments", "statuses_url": f"{r}/statuses/{m.github_head_sha}",
        "labels": labels(req, repo, p), "assignee": user(req, p.assignees[0]) if p.assignees else None,
        "assignees": [user(req, a) for a in p.assignees], "milestone": None,
        "requested_reviewers": [user(req, r_) for r_ in p.requested_reviewers], "requested_teams": [],
        "head": _side(req, repo, p.head, m.github_head_sha), "base": _side(req, repo, p.base, m.base_sha),
        "created_at": p.created_at, "updated_at": p.updated_at, "closed_at": p.closed_at,
        "merged_at": p.merged_at, "merge_commit_sha": p.merge_commit_sha, "author_association": "MEMBER",
        "auto_merge": _auto_merge(req, p),
        "_links": {k: {"href": v} for k, v in {
            "self": f"{r}/pulls/{p.number}", "html": html, "issue": f"{r}/issues/{p.number}",
            "comments": f"{r}/issues/{p.number}/comments", "review_comments": f"{r}/pulls/{p.number}/comments",
            "review_comment": f"{r}/pulls/comments{{/number}}", "commits": f"{r}/pulls/{p.number}/commits",
            "statuses": f"{r}/statuses/{m.github_head_sha}"}.items()},
    }
    if full:
        mergeable, state = github_state(repo, p, m)
        commits = (repo.bare.count(m.base_sha, m.head_sha) if m.head_sha and m.base_sha and p.state == "open"
                   else 0)
        body.update({
            "merged": p.merged, "mergeable": mergeable, "mergeable_state": state, "rebaseable": mergeable,
            "merged_by": user(req, p.merged_by) if p.merged_by else None, "comments": len(p.comments),
            "review_comments": 0, "maintainer_can_modify": False, "commits": commits,
            "additions": 0, "deletions": 0, "changed_files": 0,
        })
    return body


def _auto_merge(req: Request, p: Pull) -> dict[str, Any] | None:
    if p.auto_merge is None or p.auto_merge.via != "github":
        return None
    return {"enabled_by": user(req, p.auto_merge.enabled_by), "merge_method": p.auto_merge.method,
            "commit_title": p.auto_merge.commit_title or "", "commit_message": p.auto_merge.commit_message or ""}


def issue(req: Request, repo: Repo, p: Pull) -> dict[str, Any]:
    r = f"{api(req)}/repos/{repo.full_name}"
    return {
        "id": p.id, "node_id": f"I_{p.id}", "number": p.number, "title": p.title, "body": p.body,
        "state": p.state, "locked": False, "user": user(req, p.author), "labels": labels(req, repo, p),
        "closed_by": user(req, p.merged_by or p.author) if p.state == "closed" else None,
        "assignee": user(req, p.assignees[0]) if p.assignees else None,
        "assignees": [user(req, a) for a in p.assignees], "milestone": None, "comments": len(p.comments),
        "url": f"{r}/issues/{p.number}", "html_url": f"{req.base}/{repo.full_name}/pull/{p.number}",
        "repository_url": r, "labels_url": f"{r}/issues/{p.number}/labels{{/name}}",
        "comments_url": f"{r}/issues/{p.number}/comments", "events_url": f"{r}/issues/{p.number}/events",
        "closed_at": p.closed_at, "created_at": p.created_at, "updated_at": p.updated_at,
        "author_association": "MEMBER",
        "pull_request": {"url": f"{r}/pulls/{p.number}", "html_url": f"{req.base}/{repo.full_name}/pull/{p.number}",
                         "diff_url": None, "patch_url": None, "merged_at": p.merged_at},
    }


def error(status: int, message: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message, "documentation_url": DOCS, "status": str(status)}
    if errors is not None:
        body["errors"] = errors
    return body
