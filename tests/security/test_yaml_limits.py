"""Class 5 of issue 11 (bump side): every YAML load is bounded (alias expansion, depth, size) and a
violation is a per-file warning or a one-line error, never MemoryError/RecursionError/traceback."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.security.helpers import DEPLOYMENT, run_cli, write_tree
from updater.errors import ExitCode
from updater.manifests.yaml import Limits, Mapping, YamlTooComplex, parse_documents


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """The classic "billion laughs": each level is `width` aliases of the one before."""
    lines = ["l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("pure", [False, True])
@pytest.mark.parametrize(("text", "why"), [
    (alias_bomb(), "aliases expand to more than 100000 nodes"),
    ("a: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 100 levels deep"),
    ("".join("  " * i + f"k{i}:\n" for i in range(300)) + "  " * 300 + "v\n", "nested more than 100 levels deep"),
    ("a: " + "{b: " * 2000 + "c" + "}" * 2000 + "\n", "nested more than 100 levels deep"),
])
def test_the_loader_stops_at_its_limits(text: str, why: str, pure: bool) -> None:
    # refused, not expanded or recursed into (a MemoryError/RecursionError would escape instead); how
    # fast is for benchmarks, not for a test on a loaded machine
    with pytest.raises(YamlTooComplex, match=why):
        parse_documents(text, pure=pure)


def test_the_size_limit() -> None:
    with pytest.raises(YamlTooComplex, match="more than the limit of 64"):
        parse_documents("a: " + "b" * 100, limits=Limits(max_chars=64))


def test_aliases_within_the_limit_still_resolve_to_their_anchor() -> None:
    (root,) = parse_documents("base: &b {image: x}\nuse: *b\n")
    assert isinstance(root, Mapping) and root.get("use") is root.get("base")


def test_an_alias_bomb_in_updater_yml_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bomb = alias_bomb()
    assert len(bomb) < 600
    tree = write_tree(tmp_path, {"deploy.yaml": DEPLOYMENT, ".updater.yml": "version: 1\n" + bomb})
    started = time.monotonic()
    run = run_cli(capsys, "bump", "--dir", str(tree), "--image", "ghcr.io/acme/api:1.4.2", "--target", "api")
    assert time.monotonic() - started < 10
    assert run.code == ExitCode.BAD_INPUT
    assert run.err.strip().splitlines() == [
        f"updater: error: {tree}/.updater.yml:7: not valid YAML: line 7: aliases expand to more than 100000 nodes "
        "(the limit; an alias bomb?)"]


def test_a_bomb_in_one_manifest_is_a_warning_and_the_others_are_bumped(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bomb = "image: ghcr.io/acme/api:1.4.1\n" + alias_bomb()
    tree = write_tree(tmp_path, {"deploy.yaml": DEPLOYMENT, "bomb.yaml": bomb})
    run = run_cli(capsys, "bump", "--dir", str(tree), "--image", "ghcr.io/acme/api:1.4.2")
    assert run.code == ExitCode.OK, run.err
    lines = [line for line in run.err.splitlines() if "bomb.yaml" in line]
    assert len(lines) == 1 and "aliases expand to more than" in lines[0]
    assert "1.4.2" in (tree / "deploy.yaml").read_text()
    assert (tree / "bomb.yaml").read_text() == bomb


def test_a_file_over_the_size_limit_is_skipped_with_a_warning_unread_past_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    huge = "image: ghcr.io/acme/api:1.4.1\n" + ("# " + "x" * 1021 + "\n") * (17 * 1024)
    tree = write_tree(tmp_path, {"deploy.yaml": DEPLOYMENT, "huge.yaml": huge})
    run = run_cli(capsys, "bump", "--dir", str(tree), "--image", "ghcr.io/acme/api:1.4.2")
    assert run.code == ExitCode.OK, run.err
    assert [line for line in run.err.splitlines() if "huge.yaml" in line] == [
        "warning: huge.yaml: skipped, larger than the 16 MiB limit for a YAML file"]
    assert (tree / "huge.yaml").read_text() == huge
    assert "1.4.2" in (tree / "deploy.yaml").read_text()
