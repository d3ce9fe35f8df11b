"""Git plumbing on the forge's bare repositories: read refs and commits, compute merges, write commits,
and move refs with compare-and-swap — never a working tree, so concurrent pushes and API calls only
meet in git's own ref locking.

`merge-tree --write-tree` (git >= 2.38) gives a merge's tree and whether it conflicts. git 2.39 has no
`--merge-base`, so a cherry-pick (for rebases) merges two throw-away commits that share the picked
commit's parent tree as their only ancestor: the same three-way merge `git cherry-pick` does.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from updater import proc

ZERO = "0" * 40
_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_TERMINAL_PROMPT": "0",
}


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    date: str  # ISO 8601, as git's %aI


@dataclass(frozen=True)
class CommitInfo:
    sha: str
    tree: str
    parents: tuple[str, ...]
    author: Person
    committer: Person
    message: str

    @property
    def title(self) -> str:
        return self.message.split("\n", 1)[0]


T = TypeVar("T")


class RefMoved(Exception):
    """A compare-and-swap ref update lost: the ref no longer had the expected value."""


@dataclass(frozen=True)
class BareRepo:
    """Queries about commits (merge results, ancestry, counts, commit data) are memoised: a commit id
    names immutable content, so the answer for a pair of ids never changes. Ref reads are never cached."""

    path: Path
    _memo: dict[tuple[Any, ...], Any] = field(default_factory=dict, compare=False, repr=False)
    _memo_lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    def _memoised(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        with self._memo_lock:
            if key in self._memo:
                return self._memo[key]  # type: ignore[no-any-return]
        value = compute()
        with self._memo_lock:
            if len(self._memo) > 50_000:  # bounded: a long demo must not grow without limit
                self._memo.clear()
            self._memo[key] = value
        return value

    def git(self, *args: str, input: bytes | None = None, env: Mapping[str, str] | None = None,
            check: bool = True) -> proc.Result:
        return proc.run(["git", *args], cwd=self.path, env={**_ENV, **(env or {})}, input=input,
                        timeout=60, check=check)

    def rev_parse(self, rev: str) -> str | None:
        done = self.git("rev-parse", "--verify", "-q", f"{rev}^{{commit}}", check=False)
        return done.out.strip() or None if done.returncode == 0 else None

    def refs(self, prefix: str = "refs/heads/") -> dict[str, str]:
        """Full ref name -> commit sha for refs under `prefix` (a directory prefix, or one full ref).

        Read from the loose ref files when nothing is packed (the forge turns auto-gc off, so refs
        stay loose; git writes each by atomic rename): a request reads its refs without a process.
        """
        if (self.path / "packed-refs").exists():
            out = self.git("for-each-ref", "--format=%(refname) %(objectname)", prefix).out
            return dict(line.split(" ", 1) for line in out.splitlines() if line)
        found = {}
        top = self.path / prefix
        files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file()) if top.is_dir() else []
        for path in files:
            if path.suffix == ".lock":
                continue
            try:
                sha = path.read_text().strip()
            except FileNotFoundError:  # deleted between listing and reading
                continue
            if _is_sha(sha):
                found[path.relative_to(self.path).as_posix()] = sha
        return found

    def branches(self) -> dict[str, str]:
        return {ref.removeprefix("refs/heads/"): sha for ref, sha in self.refs("refs/heads/").items()}

    def head_branch(self) -> str:
        """The default branch, read from HEAD directly (asked for in every repository answer)."""
        return (self.path / "HEAD").read_text().strip().removeprefix("ref: refs/heads/")

    def update_ref(self, ref: str, new: str, old: str | None) -> None:
        """Move `ref` to `new` if it still points at `old` (None: any value; ZERO: must not exist)."""
        args = ["update-ref", "-m", "sandbox", ref, new] + ([old] if old is not None else [])
        done = self.git(*args, check=False)
        if done.returncode != 0:
            raise RefMoved(done.err.strip())

    def delete_ref(self, ref: str, old: str | None) -> None:
        done = self.git("update-ref", "-d", ref, *([old] if old else []), check=False)
        if done.returncode != 0:
            raise RefMoved(done.err.strip())

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        if not _is_sha(ancestor) or not _is_sha(descendant):
            return self.git("merge-base", "--is-ancestor", ancestor, descendant, check=False).returncode == 0
        return self._memoised(("anc", ancestor, descendant), lambda: self.git(
            "merge-base", "--is-ancestor", ancestor, descendant, check=False).returncode == 0)

    def merge_base(self, a: str, b: str) -> str | None:
        done = self.git("merge-base", a, b, check=False)
        return done.out.strip() or None if done.returncode == 0 else None

    def merge_tree(self, ours: str, theirs: str) -> str | None:
        """The tree of merging `theirs` into `ours`, or None when they conflict."""
        if _is_sha(ours) and _is_sha(theirs):
            return self._memoised(("merge", ours, theirs), lambda: self._merge_tree(ours, theirs))
        return self._merge_tree(ours, theirs)

    def _merge_tree(self, ours: str, theirs: str) -> str | None:
        done = self.git("merge-tree", "--write-tree", "--no-messages", ours, theirs, check=False)
        if done.returncode == 0:
            return done.out.split()[0]
        if done.returncode == 1:
            return None
        raise proc.CommandFailed(f"git merge-tree failed: {done.err.strip()}", done)

    def commit_tree(self, tree: str, parents: Sequence[str], message: str, *, author: Person | None = None,
                    committer: Person, signing_key: Path | None = None) -> str:
        """A commit object; `signing_key`: an ssh private key that signs it (the forge's web-flow)."""
        who = author or committer
        env = {
            "GIT_AUTHOR_NAME": who.name, "GIT_AUTHOR_EMAIL": who.email,
            "GIT_COMMITTER_NAME": committer.name, "GIT_COMMITTER_EMAIL": committer.email,
        }
        if author and author.date:
            env["GIT_AUTHOR_DATE"] = author.date
        args = ["commit-tree", tree]
        if signing_key is not None:
            args = ["-c", "gpg.format=ssh", "-c", f"user.signingkey={signing_key}", *args, "-S"]
        for parent in parents:
            args += ["-p", parent]
        return self.git(*args, input=message.encode(), env=env).out.strip()

    def commit(self, sha: str) -> CommitInfo:
        if _is_sha(sha):
            return self._memoised(("commit", sha), lambda: self._commit(sha))
        return self._commit(sha)

    def _commit(self, sha: str) -> CommitInfo:
        fmt = "%H%n%T%n%P%n%an%n%ae%n%aI%n%cn%n%ce%n%cI%n%B"
        lines = self.git("show", "-s", f"--format={fmt}", sha).out.split("\n", 9)
        return CommitInfo(
            sha=lines[0], tree=lines[1], parents=tuple(lines[2].split()),
            author=Person(lines[3], lines[4], lines[5]), committer=Person(lines[6], lines[7], lines[8]),
            message=lines[9].rstrip("\n") if len(lines) > 9 else "",
        )

    def commits_between(self, base: str, head: str) -> list[str]:
        """Commits reachable from head but not base, oldest first (what a PR/MR contains)."""
        out = self.git("rev-list", "--reverse", "--topo-order", f"{base}..{head}").out
        return out.split()

    def count(self, base: str, head: str) -> int:
        """How many commits `head` has that `base` lacks."""

        def compute() -> int:
            return int(self.git("rev-list", "--count", f"{base}..{head}").out.strip())

        return self._memoised(("count", base, head), compute) if _is_sha(base) and _is_sha(head) else compute()

    def changed_files(self, base: str, head: str) -> list[str]:
        return self.git("diff", "--name-only", base, head).out.split()

    def cherry_pick(self, onto: str, commit: CommitInfo, committer: Person) -> str | None:
        """A new commit applying `commit`'s change on top of `onto`, or None on conflict."""
        parent_tree = self.commit(commit.parents[0]).tree if commit.parents else self._empty_tree()
        base = self.commit_tree(parent_tree, [], "cherry-pick base", committer=committer)
        ours = self.commit_tree(self.commit(onto).tree, [base], "ours", committer=committer)
        theirs = self.commit_tree(commit.tree, [base], "theirs", committer=committer)
        tree = self.merge_tree(ours, theirs)
        if tree is None:
            return None
        return self.commit_tree(tree, [onto], commit.message + "\n", author=commit.author, committer=committer)

    def rebase(self, onto: str, commits: Sequence[str], committer: Person) -> str | None:
        """Replay `commits` (oldest first) on `onto`; the new tip, or None at the first conflict."""
        tip = onto
        for sha in commits:
            info = self.commit(sha)
            if len(info.parents) > 1:  # like `git rebase`, merges are dropped (their changes come along)
                continue
            picked = self.cherry_pick(tip, info, committer)
            if picked is None:
                return None
            tip = picked
        return tip

    def _empty_tree(self) -> str:
        return self.git("hash-object", "-t", "tree", "--stdin", "-w", input=b"").out.strip()


def _is_sha(rev: str) -> bool:
    return len(rev) == 40 and all(c in "0123456789abcdef" for c in rev)
