"""Golden trees: `updater bump` on tests/data/bump/<case>/before must give exactly <case>/after.

Each case has an `args` file (the bump flags, one per line) and optionally `expect-stderr` (lines
that must appear in the log). The whole tree is compared byte for byte, so a file that must not
change is part of the expectation too. Runs through the real CLI, with validation on (real kubectl).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from updater.cli import main

DATA = Path(__file__).parent.parent / "data" / "bump"
CASES = sorted(p.name for p in DATA.iterdir() if (p / "before").is_dir())


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_every_case_has_an_expectation() -> None:
    assert len(CASES) >= 17
    for case in CASES:
        assert (DATA / case / "after").is_dir() and (DATA / case / "args").is_file(), case


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = DATA / case
    work = tmp_path / "tree"
    shutil.copytree(source / "before", work)
    args = (source / "args").read_text().split("\n")
    assert main(["bump", *[a for a in args if a], "--dir", str(work)]) == 0
    err = capsys.readouterr().err
    expected = tree_bytes(source / "after")
    actual = tree_bytes(work)
    assert sorted(actual) == sorted(expected)
    for rel, data in expected.items():
        assert actual[rel] == data, f"{case}/{rel} differs"
    stderr_file = source / "expect-stderr"
    for line in stderr_file.read_text().splitlines() if stderr_file.exists() else []:
        assert line in err


@pytest.mark.parametrize("case", CASES)
def test_golden_is_idempotent(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Bumping the `after` tree again changes nothing and says so."""
    source = DATA / case
    work = tmp_path / "tree"
    shutil.copytree(source / "after", work)
    args = [a for a in (source / "args").read_text().split("\n") if a]
    assert main(["bump", *args, "--dir", str(work), "--no-validate"]) == 0
    assert tree_bytes(work) == tree_bytes(source / "after")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "already current" in captured.err
