"""Class 4 of issue 11 (bump side): every file read from a checkout stays inside it — no symlinked
config, no kustomize input outside the tree or through a symlinked directory, no network fetch."""

from __future__ import annotations

import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.security.helpers import DEPLOYMENT, Run, run_cli, write_tree
from updater.bump import validate
from updater.errors import ExitCode

OUTSIDE_SECRET = "root:x:0:0:outside-the-tree-4711:/root:/bin/bash"
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n"


def bump(capsys: pytest.CaptureFixture[str], tree: Path, *extra: str) -> Run:
    return run_cli(capsys, "bump", "--dir", str(tree), "--image", "ghcr.io/acme/api:1.4.2", *extra)


def test_a_symlinked_updater_yml_is_refused_unread(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outside = tmp_path / "passwd"
    outside.write_text(OUTSIDE_SECRET + "\n")
    tree = write_tree(tmp_path / "tree", {"deploy.yaml": DEPLOYMENT})
    (tree / ".updater.yml").symlink_to(outside)
    run = bump(capsys, tree, "--target", "api")
    assert run.code == ExitCode.BAD_INPUT
    assert "outside-the-tree-4711" not in run.err + run.out
    assert run.err.strip().splitlines() == [
        "updater: error: .updater.yml: is a symlink; updater reads the tree's config only as a regular file "
        "inside it (commit the file itself, or give --config)"]


class _Counting(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        self.hits.append(self.path)
        body = CONFIGMAP.format(name="fetched").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def http_resource() -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []
    handler = type("Handler", (_Counting,), {"hits": hits})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/cm.yaml", hits
    finally:
        server.shutdown()
        server.server_close()


def test_validation_fetches_no_remote_resource_unless_allowed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], http_resource: tuple[str, list[str]]) -> None:
    url, hits = http_resource
    tree = write_tree(tmp_path / "tree", {"app/deploy.yaml": DEPLOYMENT,
                                          "app/kustomization.yaml": f"resources:\n- deploy.yaml\n- {url}\n"})
    run = bump(capsys, tree)
    assert run.code == ExitCode.OK, run.err
    assert hits == []
    warning = [line for line in run.err.splitlines() if "not validated" in line]
    assert warning == [f"app: not validated: its Kustomize tree names a remote resource ({url}) that kustomize "
                       "would fetch; pass --allow-remote-resources to allow that"]
    assert "1.4.2" in (tree / "app/deploy.yaml").read_text()


def test_the_operator_can_opt_in_to_remote_resources(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], http_resource: tuple[str, list[str]]) -> None:
    url, hits = http_resource
    tree = write_tree(tmp_path / "tree", {"app/deploy.yaml": DEPLOYMENT,
                                          "app/kustomization.yaml": f"resources:\n- deploy.yaml\n- {url}\n"})
    run = bump(capsys, tree, "--allow-remote-resources", "--dry-run")
    assert run.code == ExitCode.OK, run.err
    assert hits, "kustomize should have fetched the resource when allowed"


@pytest.mark.parametrize("reference", ["ABSOLUTE", "../../outside"])
def test_a_tree_naming_a_directory_outside_is_not_built(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], reference: str) -> None:
    outside = write_tree(tmp_path / "outside", {"kustomization.yaml": "resources: [cm.yaml]\n",
                                                "cm.yaml": CONFIGMAP.format(name="outside")})
    before = sorted(p.name for p in outside.iterdir())
    ref = str(outside) if reference == "ABSOLUTE" else reference
    tree = write_tree(tmp_path / "tree", {"app/deploy.yaml": DEPLOYMENT,
                                          "app/kustomization.yaml": f"resources:\n- deploy.yaml\n- {ref}\n"})
    run = bump(capsys, tree)
    assert run.code == ExitCode.OK, run.err
    assert "Traceback" not in run.err
    assert [line for line in run.err.splitlines() if "not validated" in line] == [
        f"app: not validated: its Kustomize tree names {ref!r}, outside the repository; updater reads nothing "
        "outside it"]
    assert sorted(p.name for p in outside.iterdir()) == before


def test_nothing_is_copied_through_a_symlinked_directory(tmp_path: Path) -> None:
    outside = write_tree(tmp_path / "outside", {"secret.yaml": OUTSIDE_SECRET})
    root = write_tree(tmp_path / "tree", {"app/kustomization.yaml": "resources: [linked/secret.yaml]\n"})
    os.symlink(outside, root / "app/linked")
    copy = tmp_path / "copy"
    validate._copy_inputs(root, copy, {"app", "app/kustomization.yaml", "app/linked/secret.yaml", "app/linked"})
    copied = sorted(str(p.relative_to(copy)) for p in copy.rglob("*"))
    assert copied == ["app", "app/kustomization.yaml"]
