"""What ships: the product's wheel and the container image's build context carry the product only —
no emulator, no vendored contracts, nothing that imports pytest (those are the `updater-sandbox`
distribution in sandbox/)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build_product_wheel(tmp_path: Path) -> Path:
    """Build from a copy of exactly what the Dockerfile copies (pyproject.toml, README.md, updater/)."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "updater", src / "updater", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    out = tmp_path / "wheels"
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                           "-w", str(out), str(src)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    (wheel,) = out.glob("updater-*.whl")
    return wheel


def test_product_wheel_has_no_sandbox_contracts_or_pytest(tmp_path: Path) -> None:
    wheel = build_product_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        sources = {n: archive.read(n).decode() for n in names if n.endswith(".py")}
    assert any(n == "updater/cli.py" for n in names) and any(n.startswith("updater/agent/") for n in names)
    assert not [n for n in names if "sandbox" in n or "contracts" in n or "examples/" in n]
    assert not [n for n, text in sources.items() if "import pytest" in text or "updater_sandbox" in text]


def test_image_build_context_excludes_the_sandbox() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert {"sandbox", "tests", "bench"} <= ignored
    dockerfile = (ROOT / "Dockerfile").read_text()
    copies = [line for line in dockerfile.splitlines() if line.startswith("COPY")]
    assert copies and all("sandbox" not in line for line in copies)


def test_demo_without_the_sandbox_says_how_to_install_it() -> None:
    # The product alone (entry points of updater-sandbox hidden): `updater demo` is a clear exit 2.
    code = ("import importlib.metadata as m, sys; from updater import cli; "
            "cli.plugin_commands = lambda: {}; sys.exit(cli.main(['demo']))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == ("updater: error: `updater demo` comes with the updater-sandbox package, which is "
                                   "not installed: run `pip install -e . -e ./sandbox` in a checkout of updater "
                                   "(README, Quick start)")
