"""GitHub GraphQL's commit and ref mutations: `createCommitOnBranch` (a real commit object built in the
bare repository from the branch head and the file changes, signed with the forge's web-flow key,
then a compare-and-swap ref update) and `updateRefs` (several refs moved in one git transaction, each
checked against its `beforeOid`). Called with the store lock held, like every API handler; the ref
updates are also atomic on their own (`git update-ref <ref> <new> <old>`, `update-ref --stdin`).

Errors as GitHub gives them: a stale `expectedHeadOid` is `STALE_DATA` "Expected branch to point to
"<oid>" but it did not.  Pull and try again."; deleting a missing path is `UNPROCESSABLE` "A path was
requested for deletion which does not exist as of commit oid `<oid>`."; a stale `beforeOid` of
`updateRefs` is GitHub's generic error without a type. (The wording for a missing branch and for an
invalid path is ours: GitHub's was not at hand.)
"""

from __future__ import annotations

import binascii
import secrets
import tempfile
from base64 import b64decode
from collections.abc import Callable
from typing import Any

from updater import proc
from updater_sandbox import github_json as J
from updater_sandbox import github_apps, merging, protection, web_flow
from updater_sandbox.bare import ZERO, BareRepo, Person, RefMoved
from updater_sandbox.graphql_parser import GraphQLError, Resolved
from updater_sandbox.state import Repo, Store
from updater_sandbox.web import Request

Mutation = Callable[[dict[str, Any]], Resolved]


def generic_error() -> GraphQLError:
    """GitHub's answer when a mutation fails without a specific error (e.g. a stale `beforeOid`)."""
    tag = secrets.token_hex(4).upper()
    return GraphQLError(f"Something went wrong while executing your query. Please include `{tag}:{tag[::-1]}` "
                        "when reporting this issue.", kind="")


def mutations(store: Store, req: Request, login: str, repository: Callable[[Repo], Resolved]) -> dict[str, Mutation]:
    """The two mutations, for `login` (the token's user); `repository` resolves a repository object."""

    def check_write() -> None:
        refused = github_apps.may_write_contents(store, req.token)
        if refused is not None:
            raise GraphQLError(refused, "FORBIDDEN")

    def commit_object(repo: Repo, sha: str) -> Resolved:
        info = repo.bare.commit(sha)
        headline, _, body = info.message.partition("\n")
        return {"__typename": "Commit", "id": f"C_{sha}", "oid": sha, "abbreviatedOid": sha[:7],
                "message": info.message, "messageHeadline": headline, "messageBody": body.strip("\n"),
                "url": f"{req.base}/{repo.full_name}/commit/{sha}", "repository": repository(repo)}

    def create_commit(args: dict[str, Any]) -> Resolved:
        check_write()
        inp = args.get("input") or {}
        where = inp.get("branch") or {}
        full_name = str(where.get("repositoryNameWithOwner") or "")
        repo = store.repo(full_name)
        if repo is None:
            raise GraphQLError(f"Could not resolve to a Repository with the name '{full_name}'.", "NOT_FOUND")
        name = str(where.get("branchName") or "").removeprefix("refs/heads/")
        ref = f"refs/heads/{name}"
        head = repo.bare.refs(ref).get(ref) if name else None
        if head is None:
            raise GraphQLError(f"Could not resolve to a Ref named '{ref}'.", "NOT_FOUND")
        expected = str(inp.get("expectedHeadOid") or "")
        stale = GraphQLError(f'Expected branch to point to "{expected}" but it did not.  Pull and try again.',
                             "STALE_DATA")
        if expected != head:
            raise stale
        rule = repo.settings.protected.get(name)
        if rule is not None and not rule.allow_direct_push:
            lines = protection.MESSAGES["github"]["direct"]
            raise GraphQLError(" ".join(line.removeprefix("error: ").format(ref=ref) for line in lines),
                               "UNPROCESSABLE")
        message = inp.get("message") or {}
        headline, body = str(message.get("headline") or ""), str(message.get("body") or "")
        if not headline.strip():
            raise GraphQLError("A commit message headline is required.", "UNPROCESSABLE")
        changes = inp.get("fileChanges") or {}
        tree = _tree(repo.bare, head, changes.get("additions") or [], changes.get("deletions") or [])
        author = Person(login, f"{J.user_id(login)}+{login}@users.noreply.github.com", "")
        text = headline + ("\n\n" + body if body.strip() else "") + "\n"
        sha = web_flow.commit(store, repo.bare, tree, parent=head, message=text, author=author)
        try:
            repo.bare.update_ref(ref, sha, head)  # compare-and-swap: a push may have landed meanwhile
        except RefMoved as err:
            raise stale from err
        merging.observe_refs(store)
        return {"__typename": "CreateCommitOnBranchPayload", "clientMutationId": inp.get("clientMutationId"),
                "commit": commit_object(repo, sha),
                "ref": {"__typename": "Ref", "id": f"REF_{repo.id}_{ref}", "name": name, "prefix": "refs/heads/"}}

    def update_refs(args: dict[str, Any]) -> Resolved:
        check_write()
        inp = args.get("input") or {}
        node = str(inp.get("repositoryId") or "")
        repo = store.repo_by_id(int(node[2:])) if node.startswith("R_") and node[2:].isdigit() else None
        if repo is None:
            raise GraphQLError(f"Could not resolve to a node with the global id of '{node}'", "NOT_FOUND")
        script = ["start"]
        for update in inp.get("refUpdates") or []:
            name, after = str(update.get("name") or ""), str(update.get("afterOid") or "")
            before = update.get("beforeOid")
            current = repo.bare.refs(name).get(name) if name.startswith("refs/") else None
            if not name.startswith("refs/heads/") or (before is not None and (current or ZERO) != before):
                raise generic_error()
            if after != ZERO and (repo.bare.rev_parse(after) is None or (
                    current and not update.get("force") and not repo.bare.is_ancestor(current, after))):
                raise generic_error()
            if name.removeprefix("refs/heads/") in repo.settings.protected:
                raise generic_error()  # the forge keeps protected branches to pushes and merges
            script.append(f"delete {name} {current}" if after == ZERO else f"update {name} {after} {current or ZERO}")
        script.append("commit")
        if repo.bare.git("update-ref", "--stdin", input=("\n".join(script) + "\n").encode(), check=False).returncode:
            raise generic_error()  # another update won the race between our checks and the transaction
        merging.observe_refs(store)
        return {"__typename": "UpdateRefsPayload", "clientMutationId": inp.get("clientMutationId")}

    return {"createCommitOnBranch": create_commit, "updateRefs": update_refs}


def _tree(bare: BareRepo, parent: str, additions: list[Any], deletions: list[Any]) -> str:
    """The tree of `parent` with `deletions` removed and `additions` written (existing files keep
    their mode, new ones are 100644), built in a temporary index: no work tree, no ref touched."""
    entries: list[str] = []
    modes = _modes(bare, parent)
    for item in deletions:
        path = _path(item)
        if path not in modes:
            raise GraphQLError(f"A path was requested for deletion which does not exist as of commit oid `{parent}`.",
                               "UNPROCESSABLE")
        entries.append(f"0 {ZERO}\t{path}")
    for item in additions:
        path = _path(item)
        try:
            data = b64decode(str(item.get("contents") or ""), validate=True)
        except (binascii.Error, ValueError) as err:
            raise GraphQLError(f"The contents of {path} are not valid base64.", "UNPROCESSABLE") from err
        blob = bare.git("hash-object", "-w", "--stdin", input=data).out.strip()
        entries.append(f"{modes.get(path, '100644')} {blob}\t{path}")
    with tempfile.TemporaryDirectory(prefix="forge-index-") as tmp:
        env = {"GIT_INDEX_FILE": f"{tmp}/index"}
        bare.git("read-tree", parent, env=env)
        try:
            bare.git("update-index", "--index-info", input=("\n".join(entries) + "\n").encode(), env=env)
        except proc.CommandFailed as err:
            raise GraphQLError(f"Invalid file changes: {err}", "UNPROCESSABLE") from err
        return bare.git("write-tree", env=env).out.strip()


def _modes(bare: BareRepo, commit: str) -> dict[str, str]:
    out = bare.git("ls-tree", "-r", "-z", "--full-tree", commit).out
    found = {}
    for entry in out.split("\0"):
        meta, _, path = entry.partition("\t")
        if path:
            found[path] = meta.split(" ", 1)[0]
    return found


def _path(item: Any) -> str:
    """A repository path as GitHub accepts it: relative, no empty, `.` or `..` parts, nothing in `.git`."""
    path = str((item or {}).get("path") or "") if isinstance(item, dict) else ""
    parts = path.split("/")
    if not path or path.startswith("/") or any(p in ("", ".", "..") for p in parts) or parts[0] == ".git" \
            or "\0" in path or "\n" in path:
        raise GraphQLError(f"'{path}' is not a valid path for a file in this repository.", "UNPROCESSABLE")
    return path

