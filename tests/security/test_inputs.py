"""Class 9 of issue 11: inputs that are not what they look like are exit 2 with one line.

Python's `\\d`/`\\w` match any Unicode digit/letter, `float()` takes "nan" and "inf", and a deep YAML
file overflowed the recursive composer.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gitrepos import git, make_remote
from tests.security.helpers import DEPLOYMENT, run_cli, write_tree
from updater.errors import ExitCode
from updater.refs import ImageRef, InvalidReference, is_tag


@pytest.mark.parametrize("text", [
    "ghcr.io/acme/api:1.\uff14.2",  # full-width digit 4
    "ghcr.io/acme/api:1.\u0664.2",  # Arabic-Indic digit 4
    "ghcr.io/acme/api:v\u00e9",  # a Latin letter outside ASCII
    "ghcr.io/acme/api:\u00b2",  # superscript two (str.isdigit() says yes)
    "ghcr.io/acme/api:1_\u2160",  # Roman numeral one
])
def test_tags_are_ascii_exactly_as_the_grammar_says(text: str) -> None:
    with pytest.raises(InvalidReference, match="invalid tag"):
        ImageRef.parse_reference(text)
    assert not is_tag(text.rpartition(":")[2])


def test_a_full_width_digit_in_image_is_exit_2_and_nothing_is_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = write_tree(tmp_path, {"deploy.yaml": DEPLOYMENT})
    run = run_cli(capsys, "bump", "--dir", str(tree), "--image", "ghcr.io/acme/api:1.\uff14.2")
    assert run.code == ExitCode.BAD_INPUT
    assert len(run.err.strip().splitlines()) == 1 and "invalid tag" in run.err
    assert (tree / "deploy.yaml").read_text() == DEPLOYMENT


@pytest.mark.parametrize(("flag", "value"), [
    ("--retry-timeout", "nan"), ("--retry-timeout", "inf"), ("--retry-wait", "inf"), ("--retry-wait", "nan"),
    ("--retry-wait-max", "inf"), ("--retry-timeout", "-inf"),
])
def test_non_finite_retry_flags_are_exit_2_before_any_clone(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str, value: str) -> None:
    remote = make_remote(tmp_path, {"deploy.yaml": DEPLOYMENT})
    before = git("rev-parse", "main", cwd=remote)
    run = run_cli(capsys, "bump", "--repo", str(remote), "--mode", "push", "--image", "ghcr.io/acme/api:1.4.2",
                  f"{flag}={value}")
    assert run.code == ExitCode.BAD_INPUT, run.err
    assert run.err.strip().splitlines() == [f"updater: error: {flag} {float(value)}: give a finite number of seconds"]
    assert git("rev-parse", "main", cwd=remote) == before


def test_very_deep_yaml_in_a_values_file_is_a_one_line_warning(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deep = "".join("  " * i + f"k{i}:\n" for i in range(600)) + "  " * 600 + "image: ghcr.io/acme/api:1.4.1\n"
    flow = "a: " + "[" * 3000 + "ghcr.io/acme/api:1.4.1" + "]" * 3000 + "\n"
    tree = write_tree(tmp_path, {"deploy.yaml": DEPLOYMENT, "charts/values.yaml": deep, "charts/flow.yaml": flow})
    run = run_cli(capsys, "bump", "--dir", str(tree), "--image", "ghcr.io/acme/api:1.4.2")
    assert run.code == ExitCode.OK, run.err
    assert "Traceback" not in run.err and "RecursionError" not in run.err
    for name in ("charts/values.yaml", "charts/flow.yaml"):
        lines = [line for line in run.err.splitlines() if name in line]
        assert len(lines) == 1 and "levels deep" in lines[0], run.err
    assert "1.4.2" in (tree / "deploy.yaml").read_text()


def test_a_deeply_nested_state_marker_from_the_forge_is_not_ours() -> None:
    from updater.landing.pr_body import MARKER_PREFIX, parse_marker

    body = MARKER_PREFIX + '{"v":' + "[" * 200_000 + "]" * 200_000 + "} -->"
    assert parse_marker(body) is None
