"""Verified commits on GitHub (`--commit-via api`): the bump commit is made by GitHub itself with the
GraphQL mutation `createCommitOnBranch`, which signs it with GitHub's own key (shown as Verified),
instead of a local commit and `git push`. With `--commit-via git` nothing here runs.

The commit's parent is the branch head, checked against `expectedHeadOid`: a branch that moved is
GitHub's `STALE_DATA` error, raised as `PushRejected` (the race the landing skeleton retries from a
fresh tip), never retried here with the same stale head. GitHub sets the author from the token's
identity (the user, or `<app>[bot]`) and the committer to `GitHub <noreply@github.com>`: --author and
--committer cannot apply. Refs move with REST `git/refs` (create, delete) and the GraphQL
`updateRefs` mutation (compare-and-swap on `beforeOid`, several refs atomically).

Requests go through the GitHub provider's PyGithub client, its retry policy for transient failures
and its error translation (token variable and permission named in auth failures).
"""

from __future__ import annotations

from base64 import b64encode
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote


from updater.errors import AuthFailed, PolicyRefused, PushRejected, RemoteError, UpdaterError
from updater.forges.base import ForgeRefused, ForgeTarget
from updater.forges.github import GitHubProvider
from updater.forges.settings import ProviderSettings

ZERO = "0" * 40

_CREATE = """mutation($input: CreateCommitOnBranchInput!) {
  createCommitOnBranch(input: $input) { commit { oid url repository { id } } }
}"""
_UPDATE_REFS = """mutation($input: UpdateRefsInput!) {
  updateRefs(input: $input) { clientMutationId }
}"""


@dataclass(frozen=True)
class Created:
    """A commit GitHub made: its id, and the repository's node id (for `updateRefs`)."""

    oid: str
    repository_id: str


@dataclass(frozen=True)
class RefMove:
    """One ref of an atomic `updateRefs`: `before` ZERO means "must not exist", `after` ZERO deletes."""

    branch: str
    before: str
    after: str


class GitHubCommits:
    """Commits and ref moves on one GitHub repository, through `provider`'s client."""

    def __init__(self, provider: GitHubProvider) -> None:
        self.provider = provider
        self.target = provider.target

    @classmethod
    def open(cls, target: ForgeTarget, *, token: str, settings: ProviderSettings) -> GitHubCommits:
        return cls(GitHubProvider(target, token=token, settings=settings))

    def commit(self, *, branch: str, expected_head: str, message: str, files: Mapping[str, bytes],
               deletions: Sequence[str] = ()) -> Created:
        """Append one commit to `branch` (whose head must be `expected_head`) writing `files`
        (path -> complete new bytes) and removing `deletions`. `PushRejected` when the head moved."""
        headline, _, body = message.strip("\n").partition("\n")
        changes: dict[str, Any] = {
            "additions": [{"path": path, "contents": b64encode(data).decode("ascii")} for path, data in sorted(files.items())],
            "deletions": [{"path": path} for path in deletions],
        }
        variables = {"input": {
            "branch": {"repositoryNameWithOwner": self.target.project, "branchName": branch},
            "message": {"headline": headline, **({"body": body.strip("\n")} if body.strip() else {})},
            "fileChanges": changes, "expectedHeadOid": expected_head}}
        data, errors = self._graphql(f"create the commit on {branch}", _CREATE, variables)
        for error in errors:
            if error.get("type") == "STALE_DATA":  # the head moved: a race, retried from the new tip
                raise PushRejected(f"GitHub API ({self.target.project}): createCommitOnBranch on {branch}: "
                                   f"{error.get('message')}")
        if errors:
            raise self._refused(f"createCommitOnBranch on {branch}", errors)
        commit = ((data.get("createCommitOnBranch") or {}).get("commit")) or {}
        if not commit.get("oid"):
            raise RemoteError(f"GitHub API ({self.target.project}): createCommitOnBranch on {branch} returned no commit")
        return Created(str(commit["oid"]), str((commit.get("repository") or {}).get("id") or ""))

    def create_branch(self, branch: str, *, at: str) -> None:
        """REST `POST git/refs`; `PushRejected` when the branch exists already (another run made it)."""
        repo = self.provider.repository
        try:
            self.provider.call(f"create branch {branch}", lambda: repo.create_git_ref(f"refs/heads/{branch}", at))
        except ForgeRefused as err:
            if err.status == 422 and "already exists" in str(err).lower():
                raise PushRejected(f"branch {branch} on {self.target.project} was created by another run: {err}") from err
            raise

    def delete_branch(self, branch: str) -> None:
        # REST `DELETE git/refs/heads/<branch>` (a lazy PyGithub GitRef would send it to `git/ref/`, a 404)
        requester, url = self.provider.requester, f"{self.provider.repository.url}/git/refs/heads/{quote(branch)}"
        self.provider.call(f"delete branch {branch}", lambda: requester.requestJsonAndCheck("DELETE", url))

    def head(self, branch: str) -> str | None:
        return self.provider.branch_head(branch)

    def move_refs(self, repository_id: str, moves: Sequence[RefMove]) -> None:
        """All of `moves` or none (GraphQL `updateRefs`, forced: the branch is replaced). GitHub answers
        a stale `beforeOid` with a generic error, so a failure re-reads the refs to tell a race
        (`PushRejected`) from a refusal."""
        variables = {"input": {"repositoryId": repository_id, "refUpdates": [
            {"name": f"refs/heads/{m.branch}", "beforeOid": m.before, "afterOid": m.after, "force": True}
            for m in moves]}}
        _, errors = self._graphql("move " + ", ".join(m.branch for m in moves), _UPDATE_REFS, variables)
        if not errors:
            return
        for move in moves:
            if (self.head(move.branch) or ZERO) != move.before:
                raise PushRejected(f"branch {move.branch} on {self.target.project} moved under us "
                                   f"(updateRefs: {errors[0].get('message')})")
        raise self._refused("updateRefs", errors)

    def _graphql(self, what: str, query: str, variables: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """(data, errors): GraphQL answers its errors in a 200, which PyGithub's `graphql_query` would
        turn into one exception; the errors are read here instead."""
        requester = self.provider.requester
        _, answer = self.provider.call(what, lambda: requester.requestJsonAndCheck(
            "POST", requester.graphql_url, input={"query": query, "variables": variables}))
        answer = answer if isinstance(answer, dict) else {}
        errors = [e if isinstance(e, dict) else {"message": str(e)} for e in answer.get("errors") or []]
        return answer.get("data") or {}, errors

    def _refused(self, what: str, errors: Sequence[Mapping[str, Any]]) -> UpdaterError:
        detail = "; ".join(str(e.get("message") or e.get("type") or e) for e in errors)
        where = f"GitHub API ({self.target.api_url}, {self.target.project}): {what}"
        if "protected branch" in detail.lower() or "rule violation" in detail.lower():
            # as a refused push: the branch's protection wants a pull request (exit 4)
            return PolicyRefused(f"{where}: refused by branch protection ({detail}); use --mode pr")
        if any(e.get("type") == "FORBIDDEN" for e in errors):
            return AuthFailed(f"{where}: forbidden ({detail}); the token in {self.target.token_env} needs "
                              "Contents: read and write (classic: the repo scope)")
        return ForgeRefused(f"{where} refused: {detail}", status=422)
