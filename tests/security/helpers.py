"""Small builders the security tests share: a manifest tree on disk, and one CLI run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from updater.cli import main

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.1
"""


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> Run:
    code = main(list(args))
    out, err = capsys.readouterr()
    return Run(code, out, err)
