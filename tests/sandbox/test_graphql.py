"""GitHub GraphQL subset: queries with aliases, variables and fragments; the auto-merge, update-branch
and merge mutations acting on real refs; GitHub's error shapes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import requests

from tests.sandbox.forgehelp import Workspace, github_client
from updater_sandbox.forge import Forge
from updater_sandbox.state import Protection

PR_QUERY = """
query PR($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) {
    autoMergeAllowed
    pr: pullRequest(number: $number) {
      id number state mergeable mergeStateStatus headRefOid
      ... on PullRequest { viewerCanUpdateBranch autoMergeRequest { mergeMethod enabledBy { login } } }
    }
  }
}
"""


def _gql(forge: Forge, query: str, **variables: Any) -> dict[str, Any]:
    answer = requests.post(f"{forge.url}/api/graphql", json={"query": query, "variables": variables},
                           headers={"Authorization": f"bearer {forge.token}"}, timeout=10)
    assert answer.status_code == 200
    return answer.json()


def _setup(forge: Forge, tmp_path: Path) -> Workspace:
    forge.create_repo("acme/gitops", {"a.txt": "a\n", "b.txt": "b\n"})
    forge.protect("acme/gitops", "main", Protection(required_contexts=("ci",), strict=True, allow_direct_push=True))
    work = Workspace(forge, "acme/gitops", tmp_path)
    work.commit_on("topic", {"a.txt": "a2\n"}, "a2")
    github_client(forge).get_repo("acme/gitops").create_pull(base="main", head="topic", title="a2")
    return work


def _pr(forge: Forge) -> dict[str, Any]:
    return _gql(forge, PR_QUERY, owner="acme", name="gitops", number=1)["data"]["repository"]["pr"]


def test_query_and_rebase_update_and_auto_merge_round_trip(forge: Forge, tmp_path: Path) -> None:
    # the round trip reads the rebased head at once; the lag after a push is tests/sandbox/test_options.py's
    forge.options = replace(forge.options, head_lag=0.0)
    work = _setup(forge, tmp_path)
    work.commit_on("main", {"b.txt": "b2\n"}, "b2")
    pr = _pr(forge)
    assert (pr["state"], pr["mergeable"], pr["mergeStateStatus"], pr["viewerCanUpdateBranch"]) == \
        ("OPEN", "MERGEABLE", "BEHIND", True)
    old_head = pr["headRefOid"]
    update = """mutation($id: ID!) { updatePullRequestBranch(input: {pullRequestId: $id, updateMethod: REBASE}) {
                  pullRequest { headRefOid } } }"""
    new_head = _gql(forge, update, id=pr["id"])["data"]["updatePullRequestBranch"]["pullRequest"]["headRefOid"]
    bare = forge.repo("acme/gitops").bare
    assert new_head != old_head and bare.commit(new_head).parents == (bare.rev_parse("main"),)  # rebased, no merge

    enable = """mutation($id: ID!) { enablePullRequestAutoMerge(input: {pullRequestId: $id, mergeMethod: SQUASH}) {
                  clientMutationId } }"""
    assert "errors" not in _gql(forge, enable, id=pr["id"])
    assert _pr(forge)["autoMergeRequest"] == {"mergeMethod": "SQUASH", "enabledBy": {"login": "sandbox-bot"}}
    disable = "mutation($id: ID!) { disablePullRequestAutoMerge(input: {pullRequestId: $id}) { clientMutationId } }"
    _gql(forge, disable, id=pr["id"])
    assert _pr(forge)["autoMergeRequest"] is None

    forge.set_status("acme/gitops", new_head, "success")
    merge = """mutation($id: ID!, $oid: GitObjectID) {
                 mergePullRequest(input: {pullRequestId: $id, expectedHeadOid: $oid}) { pullRequest { state merged } } }"""
    stale = _gql(forge, merge, id=pr["id"], oid=old_head)
    assert stale["data"]["mergePullRequest"] is None and stale["errors"][0]["type"] == "UNPROCESSABLE"
    done = _gql(forge, merge, id=pr["id"], oid=new_head)["data"]["mergePullRequest"]["pullRequest"]
    assert done == {"state": "MERGED", "merged": True}


def test_errors_have_githubs_shapes(forge: Forge, tmp_path: Path) -> None:
    _setup(forge, tmp_path)
    missing = _gql(forge, 'query { repository(owner: "acme", name: "nope") { name } }')
    assert missing["data"] == {"repository": None} and missing["errors"][0]["type"] == "NOT_FOUND"
    unknown = _gql(forge, 'query { repository(owner: "acme", name: "gitops") { stargazerCount } }')
    assert "doesn't exist on type 'Repository'" in unknown["errors"][0]["message"]
    broken = _gql(forge, "query { repository(owner: ")
    assert broken["errors"][0]["type"] == "PARSE"
    node = _gql(forge, 'mutation { disablePullRequestAutoMerge(input: {pullRequestId: "PR_nope"}) { clientMutationId } }')
    assert node["errors"][0]["type"] == "NOT_FOUND"
    assert _gql(forge, "{ viewer { login } rateLimit { remaining } }")["data"] == {
        "viewer": {"login": "sandbox-bot"}, "rateLimit": {"remaining": 4999}}


def test_literal_arguments_with_escapes_and_unicode(forge: Forge, tmp_path: Path) -> None:
    forge.create_repo("acme/gitops")
    answer = _gql(forge, 'query { r: repository(owner: "acme", name: "gitops") { nameWithOwner } '
                         'x: repository(owner: "ac\\u006de", name: "gitops") { name } }')
    assert answer["data"] == {"r": {"nameWithOwner": "acme/gitops"}, "x": {"name": "gitops"}}
    missing = _gql(forge, 'query { repository(owner: "äcme", name: "gitops") { name } }')
    assert "'äcme/gitops'" in missing["errors"][0]["message"]


def test_every_field_the_forge_resolves_is_in_the_vendored_schema(forge: Forge, tmp_path: Path) -> None:
    import re

    from updater_sandbox import graphql, schemas
    from updater_sandbox.web import Request

    fields: dict[str, set[str]] = {}
    for kind, body in re.findall(r"^type (\w+)[^{]*\{(.*?)^\}", schemas.graphql_sdl(), re.S | re.M):
        # a type may appear in both vendored parts (Mutation): its fields are the union
        fields.setdefault(kind, set()).update(re.findall(r"^  (\w+)", re.sub(r'"""(.*?)"""', "", body, flags=re.S), re.M))
    _setup(forge, tmp_path)
    req = Request("POST", "/", {}, {}, b"", forge.url, "/api/graphql", forge.token)
    repo = forge.repo("acme/gitops")
    pull = graphql._pull(forge.store, req, repo, repo.pulls[1])
    resolved = {"Query": graphql._query_root(forge.store, req), "Repository": graphql._repository(forge.store, req, repo),
                "PullRequest": pull, "User": graphql._actor(req, "x"), "Mutation": graphql._mutations(forge.store, req)}
    for kind, obj in resolved.items():
        assert set(obj) - {"__typename"} <= fields[kind], (kind, set(obj) - fields[kind])
