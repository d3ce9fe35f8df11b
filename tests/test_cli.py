"""The CLI edge: help, exit codes for user errors, and no heavy imports on the fast paths."""

from __future__ import annotations

import subprocess
import sys

from updater.cli import main
from updater.errors import ExitCode


def test_no_command_prints_help_and_exits_bad_input(capsys) -> None:
    assert main([]) == ExitCode.BAD_INPUT
    assert "usage: updater" in capsys.readouterr().err


def test_bump_without_image_is_bad_input(capsys, tmp_path) -> None:
    assert main(["bump", "--dir", str(tmp_path)]) == ExitCode.BAD_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--image" in err


def test_help_does_not_import_forge_clients() -> None:
    code = (
        "import sys\n"
        "from updater.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('github', 'gitlab', 'git') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("[]")
