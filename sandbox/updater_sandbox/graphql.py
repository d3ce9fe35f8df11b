"""GitHub GraphQL at `/api/graphql`, just enough of it: the endpoint, and resolvers for the subset in
the vendored SDL — `repository.pullRequest`, `node`, `viewer`, `rateLimit`, and the mutations
`enablePullRequestAutoMerge`, `disablePullRequestAutoMerge`, `updatePullRequestBranch`,
`mergePullRequest` (plus `createCommitOnBranch` and `updateRefs` from `updater_sandbox.graphql_commits`).
The language itself is `updater_sandbox.graphql_parser`. Errors are GitHub's: HTTP 200 with
`errors[{type, message, path}]` (no `type` for GitHub's generic "Something went wrong").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from updater_sandbox import graphql_commits, merging
from updater_sandbox.graphql_parser import GraphQLError, Parser, Resolved, execute
from updater_sandbox.options import NO_PROTECTION
from updater_sandbox.state import AutoMerge, Pull, Repo, Store, now_iso
from updater_sandbox.web import Request, Response

STATE = {"clean": "CLEAN", "dirty": "DIRTY", "behind": "BEHIND", "blocked": "BLOCKED", "unstable": "UNSTABLE",
         "draft": "DRAFT", "unknown": "UNKNOWN", "has_hooks": "HAS_HOOKS"}


def _actor(req: Request, login: str) -> Resolved:
    return {"__typename": "User", "id": f"U_{login}", "login": login,
            "avatarUrl": lambda a: f"{req.base}/avatars/{login}", "resourcePath": f"/{login}",
            "url": f"{req.base}/{login}"}


def _pull(store: Store, req: Request, repo: Repo, p: Pull) -> Resolved:
    m = merging.assess(store, repo, p)
    mergeable, state = merging.github_state(repo, p, m)
    auto = p.auto_merge if p.auto_merge and p.auto_merge.via == "github" else None
    resolved: Resolved = {
        "__typename": "PullRequest", "id": f"PR_{p.id}", "number": p.number, "title": p.title,
        "state": "MERGED" if p.merged else p.state.upper(), "isDraft": p.draft,
        "headRefName": p.head, "headRefOid": m.github_head_sha, "baseRefName": p.base, "baseRefOid": m.base_sha,
        "mergeable": {True: "MERGEABLE", False: "CONFLICTING", None: "UNKNOWN"}[mergeable],
        "mergeStateStatus": STATE[state], "merged": p.merged, "mergedAt": p.merged_at,
        "viewerCanEnableAutoMerge": repo.settings.allow_auto_merge and p.state == "open" and auto is None,
        "viewerCanDisableAutoMerge": auto is not None,
        "viewerCanUpdateBranch": p.state == "open" and m.behind,
        "url": f"{req.base}/{repo.full_name}/pull/{p.number}", "permalink": f"{req.base}/{repo.full_name}/pull/{p.number}",
        "resourcePath": f"/{repo.full_name}/pull/{p.number}",
        "autoMergeRequest": None if auto is None else {
            "__typename": "AutoMergeRequest", "authorEmail": None, "commitBody": auto.commit_message,
            "commitHeadline": auto.commit_title, "enabledAt": auto.enabled_at,
            "enabledBy": _actor(req, auto.enabled_by), "mergeMethod": auto.method.upper(),
            "pullRequest": lambda a: _pull(store, req, repo, p)},
    }
    return resolved


def _repository(store: Store, req: Request, repo: Repo) -> Resolved:
    s = repo.settings

    def pull_request(args: dict[str, Any]) -> Resolved | None:
        p = repo.pulls.get(int(args.get("number", 0)))
        return _pull(store, req, repo, p) if p else None

    return {"__typename": "Repository", "id": f"R_{repo.id}", "name": repo.name, "nameWithOwner": repo.full_name,
            "autoMergeAllowed": s.allow_auto_merge, "mergeCommitAllowed": s.allow_merge_commit,
            "squashMergeAllowed": s.allow_squash_merge, "rebaseMergeAllowed": s.allow_rebase_merge,
            "deleteBranchOnMerge": s.delete_branch_on_merge, "pullRequest": pull_request}


def _find_pull(store: Store, node_id: Any) -> tuple[Repo, Pull]:
    text = str(node_id or "")
    found = store.pull_by_id(int(text[3:])) if text.startswith("PR_") and text[3:].isdigit() else None
    if found is None:
        raise GraphQLError(f"Could not resolve to a node with the global id of '{text}'", "NOT_FOUND")
    return found


def _mutations(store: Store, req: Request) -> dict[str, Callable[[dict[str, Any]], Resolved]]:
    login = store.login(req.token)

    def payload(inp: dict[str, Any], repo: Repo, p: Pull) -> Resolved:
        return {"__typename": "Payload", "actor": _actor(req, login), "clientMutationId": inp.get("clientMutationId"),
                "pullRequest": _pull(store, req, repo, p)}

    def enable(args: dict[str, Any]) -> Resolved:
        inp = args.get("input") or {}
        repo, p = _find_pull(store, inp.get("pullRequestId"))
        if not repo.settings.allow_auto_merge:
            raise GraphQLError("Pull request Auto merge is not allowed for this repository")
        if p.state != "open":
            raise GraphQLError("Pull request is closed")
        if store.options.auto_merge_needs_protection and p.base not in repo.settings.protected:
            raise GraphQLError(NO_PROTECTION)
        m = merging.assess(store, repo, p)
        if inp.get("expectedHeadOid") and inp["expectedHeadOid"] != m.github_head_sha:
            raise GraphQLError("The expected head OID does not match the pull request's head")
        state = merging.github_state(repo, p, m)[1]
        if state in ("clean", "unstable", "has_hooks"):  # GitHub refuses: merge it now instead
            raise GraphQLError(f"Pull request is in {state} status")
        p.auto_merge = AutoMerge(method=str(inp.get("mergeMethod") or "MERGE").lower(), enabled_by=login,
                                 enabled_at=now_iso(), commit_title=inp.get("commitHeadline"),
                                 commit_message=inp.get("commitBody"))
        return payload(inp, repo, p)

    def disable(args: dict[str, Any]) -> Resolved:
        inp = args.get("input") or {}
        repo, p = _find_pull(store, inp.get("pullRequestId"))
        p.auto_merge = None
        return payload(inp, repo, p)

    def update_branch(args: dict[str, Any]) -> Resolved:
        inp = args.get("input") or {}
        repo, p = _find_pull(store, inp.get("pullRequestId"))
        try:
            merging.update_branch(store, repo, p, method=str(inp.get("updateMethod") or "MERGE").lower(),
                                  expected_head=inp.get("expectedHeadOid"))
        except merging.Refused as err:
            raise GraphQLError(str(err)) from err
        return payload(inp, repo, p)

    def merge(args: dict[str, Any]) -> Resolved:
        inp = args.get("input") or {}
        repo, p = _find_pull(store, inp.get("pullRequestId"))
        try:
            merging.merge(store, repo, p, method=str(inp.get("mergeMethod") or "MERGE").lower(), by=login,
                          sha=inp.get("expectedHeadOid"), title=inp.get("commitHeadline"),
                          message=inp.get("commitBody"))
        except merging.Refused as err:
            raise GraphQLError(str(err)) from err
        return payload(inp, repo, p)

    return {"enablePullRequestAutoMerge": enable, "disablePullRequestAutoMerge": disable,
            "updatePullRequestBranch": update_branch, "mergePullRequest": merge,
            **graphql_commits.mutations(store, req, login, lambda repo: _repository(store, req, repo))}


def _query_root(store: Store, req: Request) -> Resolved:
    def repository(args: dict[str, Any]) -> Resolved | None:
        repo = store.repo(f"{args.get('owner')}/{args.get('name')}")
        if repo is None:
            raise GraphQLError(f"Could not resolve to a Repository with the name '{args.get('owner')}/{args.get('name')}'.",
                               "NOT_FOUND")
        return _repository(store, req, repo)

    def node(args: dict[str, Any]) -> Resolved:
        repo, p = _find_pull(store, args.get("id"))
        return _pull(store, req, repo, p)

    return {"__typename": "Query", "id": "Q", "repository": repository, "node": node,
            "viewer": _actor(req, store.login(req.token)),
            "rateLimit": lambda a: {"__typename": "RateLimit", "cost": 1, "limit": 5000, "nodeCount": 1,
                                    "remaining": 4999, "resetAt": "2100-01-01T00:00:00Z", "used": 1}}


def handle(store: Store, req: Request) -> Response:
    if req.method != "POST" or req.path not in ("", "/"):
        return Response(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/graphql"})
    body = req.json()
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        raise_body = {"message": "Problems parsing JSON", "documentation_url": "https://docs.github.com/graphql"}
        return Response(400, raise_body)
    try:
        kind, fields = Parser(body["query"], body.get("variables") or {}).document()
        root = _mutations(store, req) if kind == "mutation" else _query_root(store, req)
    except GraphQLError as err:
        return Response(200, {"errors": [{"message": str(err), "type": err.kind}]})
    data: dict[str, Any] = {}
    errors = []
    for f in fields:  # each top-level field stands alone, as GitHub does
        try:
            data.update(execute([f], root, []))
        except GraphQLError as err:
            data[f.alias] = None
            errors.append({**({"type": err.kind} if err.kind else {}), "path": [f.alias], "locations": [],
                           "message": str(err)})
    return Response(200, {"data": data, **({"errors": errors} if errors else {})})

