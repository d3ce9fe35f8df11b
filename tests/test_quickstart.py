"""The README's Quick start: exactly two commands, the first installs and runs the demo, the second
is the suite exactly as `.ci/run` runs it. `.ci/fresh-clone-check` runs both on a fresh clone (it
needs a package index and minutes, so it is a CI script, not a test here)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def quick_start() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"^## Quick start\n.*?^```sh\n(.*?)^```", readme, re.M | re.S)
    assert block, "README.md has no Quick start sh block"
    return block[1].splitlines()


def test_quick_start_is_two_commands_install_and_demo_then_the_suite() -> None:
    first, second = quick_start()
    assert first == "python3 -m venv .venv && . .venv/bin/activate && pip install -e . -e ./sandbox && updater demo"
    assert second == "pip install -e '.[test]' -e ./sandbox && bash .ci/tools && python -m pytest"


def test_second_command_is_what_ci_runs() -> None:
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
          if line.strip() and not line.lstrip().startswith("#")]
    assert ci[-1] == quick_start()[1]  # verbatim: CI cannot run something the README does not say


def test_fresh_clone_check_reads_the_same_two_commands() -> None:
    script = ROOT / ".ci" / "fresh-clone-check"
    extract = re.search(r"mapfile -t commands < <\((awk .*? README\.md)\)", script.read_text())
    assert extract and script.stat().st_mode & 0o111
    out = subprocess.run(["bash", "-c", extract[1]], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == quick_start()
