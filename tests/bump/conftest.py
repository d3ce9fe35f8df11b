"""Helpers for bump tests: write a tree of files, read one back."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest


def write(root: Path, files: Mapping[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else textwrap.dedent(content).lstrip("\n").encode())


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


DEPLOY = """
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: api
    spec:
      selector:
        matchLabels: {app: api}
      template:
        metadata:
          labels: {app: api}
        spec:
          containers:
          - name: api
            image: ghcr.io/acme/api:1.4.1
"""


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A small manifest tree: a kustomize base with one Deployment, and an unrelated file."""
    root = tmp_path / "tree"
    write(root, {
        "apps/api/base/deployment.yaml": DEPLOY,
        "apps/api/base/kustomization.yaml": "resources:\n- deployment.yaml\n",
        "apps/web/pod.yaml": "kind: Pod\nspec:\n  containers:\n  - image: nginx:1.25\n",
    })
    return root
