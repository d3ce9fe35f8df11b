"""pytest fixtures for the Kubernetes API emulator (listed in `tests/conftest.py::pytest_plugins`).

    def test_x(kube_api, kubeconfig, kubectl):
        kubectl("apply", "--server-side", "-f", str(path))      # the real kubectl binary
        assert kube_api.get("apps/v1", "Deployment", "web", "default") is not None

`kube_api` is a fresh `KubeApiServer` per test; `kubeconfig` is a kubeconfig path for it (context
"sandbox", namespace "default"); `kubectl(*args, stdin=None, env=None)` runs kubectl with it and returns the
`updater.proc.Result` (exit status not checked).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from updater.proc import Result
from updater_sandbox.kube.kubectl import run_kubectl
from updater_sandbox.kube.server import KubeApiServer


@pytest.fixture()
def kube_api() -> Iterator[KubeApiServer]:
    with KubeApiServer() as server:
        yield server


@pytest.fixture()
def kubeconfig(kube_api: KubeApiServer, tmp_path: Path) -> Path:
    return kube_api.write_kubeconfig(tmp_path / "kube" / "config")


@pytest.fixture()
def kubectl(kubeconfig: Path) -> Callable[..., Result]:
    def invoke(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> Result:
        return run_kubectl(kubeconfig, *args, stdin=stdin, env=env)

    return invoke
