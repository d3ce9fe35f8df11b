"""Git plumbing on bare repositories: merges, cherry-picks and rebases without a working tree, and
compare-and-swap ref moves."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gitrepos import make_remote
from updater_sandbox.bare import ZERO, BareRepo, Person, RefMoved
from updater_sandbox.seed import commit_files

ME = Person("Forge", "forge@example.test", "")


def _repo(tmp_path: Path) -> BareRepo:
    bare = BareRepo(make_remote(tmp_path, {"a.txt": "a1\n", "b.txt": "b1\n"}))
    return bare


def _commit(bare: BareRepo, parent: str, files: dict[str, str], message: str = "change") -> str:
    return commit_files(bare, files, message=message, parent=parent)


def test_merge_tree_merges_or_reports_a_conflict(tmp_path: Path) -> None:
    bare = _repo(tmp_path)
    base = bare.rev_parse("main") or ""
    left = _commit(bare, base, {"a.txt": "a2\n"})
    right = _commit(bare, base, {"b.txt": "b2\n"})
    clash = _commit(bare, base, {"a.txt": "a3\n"})
    tree = bare.merge_tree(left, right)
    assert tree and bare.git("show", f"{tree}:a.txt").out == "a2\n" and bare.git("show", f"{tree}:b.txt").out == "b2\n"
    assert bare.merge_tree(left, clash) is None


def test_rebase_replays_commits_keeping_authors_and_stops_at_a_conflict(tmp_path: Path) -> None:
    bare = _repo(tmp_path)
    base = bare.rev_parse("main") or ""
    first = _commit(bare, base, {"a.txt": "a2\n"}, "first")
    second = _commit(bare, first, {"c.txt": "c\n"}, "second")
    onto = _commit(bare, base, {"b.txt": "b2\n"}, "upstream")
    tip = bare.rebase(onto, [first, second], ME)
    assert tip is not None
    assert [bare.commit(s).title for s in bare.commits_between(onto, tip)] == ["first", "second"]
    assert bare.commit(tip).committer.name == "Forge" and bare.commit(tip).author.email == "noreply@sandbox.invalid"
    assert bare.git("show", f"{tip}:b.txt").out == "b2\n" and bare.git("show", f"{tip}:a.txt").out == "a2\n"
    clash = _commit(bare, base, {"a.txt": "other\n"}, "clash")
    assert bare.rebase(clash, [first, second], ME) is None


def test_update_ref_is_compare_and_swap(tmp_path: Path) -> None:
    bare = _repo(tmp_path)
    base = bare.rev_parse("main") or ""
    new = _commit(bare, base, {"a.txt": "a2\n"})
    with pytest.raises(RefMoved):
        bare.update_ref("refs/heads/main", new, new)  # stale expectation
    bare.update_ref("refs/heads/main", new, base)
    with pytest.raises(RefMoved):
        bare.update_ref("refs/heads/main", base, ZERO)  # "must not exist" but it does
    assert bare.rev_parse("main") == new


def test_refs_are_read_from_files_including_nested_names(tmp_path: Path) -> None:
    bare = _repo(tmp_path)
    base = bare.rev_parse("main") or ""
    bare.update_ref("refs/heads/updater/api", base, ZERO)
    assert bare.branches() == {"main": base, "updater/api": base}
    assert bare.refs("refs/heads/updater/api") == {"refs/heads/updater/api": base}
    bare.git("pack-refs", "--all")  # packed refs are read through git instead
    assert bare.branches() == {"main": base, "updater/api": base}
