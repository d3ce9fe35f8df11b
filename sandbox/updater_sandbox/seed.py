"""Create a forge repository: a bare repository whose branch holds one commit with the given files,
written with plumbing (a temporary index, `write-tree`, `commit-tree`), no working tree.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from updater_sandbox.bare import ZERO, BareRepo, Person

SEEDER = Person("Sandbox Forge", "noreply@sandbox.invalid", "")


def init_bare(path: Path, files: Mapping[str, str | bytes], branch: str) -> Path:
    path.mkdir(parents=True)
    bare = BareRepo(path)
    bare.git("init", "--bare", "-q", "-b", branch, ".")
    keep_refs_loose(bare)
    tip = commit_files(bare, files, message="Initial commit", parent=None)
    bare.update_ref(f"refs/heads/{branch}", tip, ZERO)
    return path


def commit_files(bare: BareRepo, files: Mapping[str, str | bytes], *, message: str, parent: str | None,
                 author: Person = SEEDER) -> str:
    """A commit whose tree is `parent`'s with `files` written over it (None content is not allowed)."""
    fd, index = tempfile.mkstemp(prefix="forge-index-")
    os.close(fd)
    os.unlink(index)  # git wants to create the index itself
    env = {"GIT_INDEX_FILE": index}
    try:
        if parent:
            bare.git("read-tree", parent, env=env)
        for rel, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            blob = bare.git("hash-object", "-w", "--stdin", input=data).out.strip()
            bare.git("update-index", "--add", "--cacheinfo", f"100644,{blob},{rel}", env=env)
        tree = bare.git("write-tree", env=env).out.strip()
    finally:
        if os.path.exists(index):
            os.unlink(index)
    return bare.commit_tree(tree, [parent] if parent else [], message + "\n", author=author, committer=author)


def keep_refs_loose(bare: BareRepo) -> None:
    """No automatic gc/pack-refs after pushes, so `BareRepo.refs` can read ref files directly."""
    bare.git("config", "gc.auto", "0")
    bare.git("config", "receive.autogc", "false")
