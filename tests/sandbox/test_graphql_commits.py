"""The forge's `createCommitOnBranch` and `updateRefs`: real commit objects signed by web-flow, head
compare-and-swap (also under concurrency), atomic multi-ref updates, GitHub's error shapes, and the
REST commit's `verification`."""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from updater_sandbox import web_flow
from updater_sandbox.forge import Forge
from updater_sandbox.state import Protection

CREATE = """mutation($input: CreateCommitOnBranchInput!) {
  createCommitOnBranch(input: $input) { commit { oid messageHeadline repository { id } } ref { name prefix } }
}"""
UPDATE = "mutation($input: UpdateRefsInput!) { updateRefs(input: $input) { clientMutationId } }"
REPO = "acme/gitops"


def _gql(forge: Forge, query: str, **variables: Any) -> dict[str, Any]:
    answer = requests.post(f"{forge.url}/api/graphql", json={"query": query, "variables": variables},
                           headers={"Authorization": f"bearer {forge.token}"}, timeout=30)
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


def _commit(forge: Forge, branch: str, expected: str, files: dict[str, bytes], deletions: tuple[str, ...] = (),
            headline: str = "Bump api") -> dict[str, Any]:
    changes = {"additions": [{"path": p, "contents": base64.b64encode(d).decode()} for p, d in files.items()],
               "deletions": [{"path": p} for p in deletions]}
    return _gql(forge, CREATE, input={"branch": {"repositoryNameWithOwner": REPO, "branchName": branch},
                                      "message": {"headline": headline, "body": "the body"},
                                      "fileChanges": changes, "expectedHeadOid": expected})


def _setup(forge: Forge) -> str:
    forge.create_repo(REPO, {"deploy.yaml": "image: acme/api:1.0.0\n", "run.sh": "#!/bin/sh\n", "old.txt": "x\n"})
    bare = forge.repo(REPO).bare
    bare.git("update-ref", "refs/heads/main", _chmod(forge, "run.sh"))
    return bare.rev_parse("main") or ""


def _chmod(forge: Forge, path: str) -> str:
    """A commit on main making `path` executable (so the mode kept by additions is observable)."""
    bare = forge.repo(REPO).bare
    entries = bare.git("ls-tree", "main").out
    lines = [line.replace("100644", "100755", 1) if line.endswith(f"\t{path}") else line for line in entries.splitlines()]
    tree = bare.git("mktree", input=("\n".join(lines) + "\n").encode()).out.strip()
    env = {"GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@x", "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@x"}
    return bare.git("commit-tree", tree, "-p", "main", input=b"chmod\n", env=env).out.strip()


def test_a_commit_is_a_real_signed_object_on_the_head_with_modes_kept(forge: Forge) -> None:
    head = _setup(forge)
    bare = forge.repo(REPO).bare
    answer = _commit(forge, "main", head, {"deploy.yaml": b"image: acme/api:1.1.0\n", "run.sh": b"#!/bin/sh\necho\n",
                                           "new/file.txt": b"new\n"}, deletions=("old.txt",))
    payload = answer["data"]["createCommitOnBranch"]
    oid = payload["commit"]["oid"]
    assert payload["commit"]["messageHeadline"] == "Bump api" and payload["ref"] == {"name": "main", "prefix": "refs/heads/"}
    assert bare.rev_parse("main") == oid and bare.commit(oid).parents == (head,)
    assert bare.commit(oid).message == "Bump api\n\nthe body"
    tree = bare.git("ls-tree", "-r", oid).out
    assert "100755 blob" in tree.split("run.sh")[0].splitlines()[-1]  # an existing file keeps its mode
    assert "100644 blob" in tree.split("new/file.txt")[0].splitlines()[-1]
    assert "old.txt" not in tree
    assert bare.git("show", f"{oid}:deploy.yaml").out == "image: acme/api:1.1.0\n"
    assert bare.git("fsck", "--no-dangling").out == ""
    assert web_flow.verification(forge.store, bare, oid)["verified"] is True
    assert web_flow.verification(forge.store, bare, head) == {
        "verified": False, "reason": "unsigned", "signature": None, "payload": None, "verified_at": None}


def test_errors_have_githubs_shapes_and_move_nothing(forge: Forge) -> None:
    head = _setup(forge)
    bare = forge.repo(REPO).bare
    stale = _commit(forge, "main", "1" * 40, {"deploy.yaml": b"x\n"})
    assert stale["data"] == {"createCommitOnBranch": None}
    assert stale["errors"][0]["type"] == "STALE_DATA" and stale["errors"][0]["path"] == ["createCommitOnBranch"]
    assert stale["errors"][0]["message"] == f'Expected branch to point to "{"1" * 40}" but it did not.  Pull and try again.'
    missing = _commit(forge, "nope", head, {"deploy.yaml": b"x\n"})
    assert missing["errors"][0]["type"] == "NOT_FOUND"
    gone = _commit(forge, "main", head, {}, deletions=("never.txt",))
    assert gone["errors"][0]["message"] == (
        f"A path was requested for deletion which does not exist as of commit oid `{head}`.")
    for bad in ("../escape", "/abs", ".git/config", "a//b"):
        assert _commit(forge, "main", head, {bad: b"x"})["errors"][0]["type"] == "UNPROCESSABLE", bad
    forge.protect(REPO, "main", Protection())  # changes must come through a pull request
    protected = _commit(forge, "main", head, {"deploy.yaml": b"x\n"})
    assert "Protected branch update failed for refs/heads/main" in protected["errors"][0]["message"]
    assert bare.rev_parse("main") == head


def test_concurrent_commits_on_one_head_exactly_one_lands(forge: Forge) -> None:
    head = _setup(forge)
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda i: _commit(forge, "main", head, {f"f{i}.txt": b"x\n"}), range(8)))
    landed = [a for a in answers if a.get("data", {}).get("createCommitOnBranch")]
    assert len(landed) == 1
    assert sum(a["errors"][0]["type"] == "STALE_DATA" for a in answers if a.get("errors")) == 7
    assert forge.repo(REPO).bare.rev_parse("main") == landed[0]["data"]["createCommitOnBranch"]["commit"]["oid"]


def test_update_refs_is_all_or_nothing_against_before_oids(forge: Forge) -> None:
    head = _setup(forge)
    bare = forge.repo(REPO).bare
    made = _commit(forge, "main", head, {"deploy.yaml": b"x\n"})["data"]["createCommitOnBranch"]["commit"]
    repo_id, oid, zero = made["repository"]["id"], made["oid"], "0" * 40
    bare.update_ref("refs/heads/scratch", oid, zero)
    wrong = _gql(forge, UPDATE, input={"repositoryId": repo_id, "refUpdates": [
        {"name": "refs/heads/pr", "beforeOid": zero, "afterOid": oid},
        {"name": "refs/heads/scratch", "beforeOid": head, "afterOid": zero}]})  # stale: scratch is at oid
    assert wrong["data"] == {"updateRefs": None} and "type" not in wrong["errors"][0]
    assert "Something went wrong" in wrong["errors"][0]["message"]
    assert set(bare.branches()) == {"main", "scratch"}  # neither moved
    right = _gql(forge, UPDATE, input={"repositoryId": repo_id, "refUpdates": [
        {"name": "refs/heads/pr", "beforeOid": zero, "afterOid": oid},
        {"name": "refs/heads/scratch", "beforeOid": oid, "afterOid": zero}]})
    assert "errors" not in right
    assert bare.branches() == {"main": oid, "pr": oid}


def test_a_token_that_cannot_write_contents_is_forbidden(forge: Forge) -> None:
    head = _setup(forge)
    forge.store.logins["read-only-token"] = "sandbox-reader"
    forge.store.read_only.add("read-only-token")
    answer = requests.post(f"{forge.url}/api/graphql", timeout=30, headers={"Authorization": "bearer read-only-token"},
                           json={"query": CREATE, "variables": {"input": {
                               "branch": {"repositoryNameWithOwner": REPO, "branchName": "main"},
                               "message": {"headline": "x"}, "expectedHeadOid": head}}}).json()
    assert answer["errors"][0]["type"] == "FORBIDDEN"
    assert answer["errors"][0]["message"] == "Resource not accessible by personal access token"
    assert forge.repo(REPO).bare.rev_parse("main") == head
