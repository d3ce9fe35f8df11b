"""Which kustomizations read which files, found without parsing unrelated kustomizations."""

from __future__ import annotations

from pathlib import Path

from tests.bump.conftest import write
from updater.bump.kustomize_trees import KustomizeTrees


def test_including_follows_every_way_of_naming_a_path(tmp_path: Path) -> None:
    write(tmp_path, {
        "kustomization.yaml": "resources: [apps/a/overlay, ./apps/c]\n",
        "apps/a/base/kustomization.yaml": "resources:\n- deploy.yaml\n",
        "apps/a/base/deploy.yaml": "x: 1\n",
        "apps/a/overlay/kustomization.yaml": "resources:\n- \"../base/\"\n",
        "apps/b/Kustomization": "configMapGenerator:\n- name: c\n  files: [key=../a/base/deploy.yaml]\n",
        "apps/c/kustomization.yml": "resources:\n- ../a/overlay\n",
        "apps/c/sub/kustomization.yaml": "resources:\n- ..\n",
        "apps/d/kustomization.yaml": "resources:\n- deploy.yaml  # same file name, other directory\n",
        "apps/d/deploy.yaml": "x: 1\n",
    })
    trees = KustomizeTrees(tmp_path)
    assert trees.including(["apps/a/base/deploy.yaml"]) == [
        "", "apps/a/base", "apps/a/overlay", "apps/b", "apps/c", "apps/c/sub"]
    assert trees.including(["apps/d/deploy.yaml"]) == ["apps/d"]
    assert trees.including(["apps/a/overlay/kustomization.yaml"]) == ["", "apps/a/overlay", "apps/c", "apps/c/sub"]
    assert trees.including(["nowhere.yaml"]) == []


def test_outermost_drops_trees_that_another_includes(tmp_path: Path) -> None:
    write(tmp_path, {
        "base/kustomization.yaml": "resources: [d.yaml]\n",
        "base/d.yaml": "x: 1\n",
        "dev/kustomization.yaml": "resources: [../base]\n",
        "prod/kustomization.yaml": "resources: [../base]\n",
    })
    trees = KustomizeTrees(tmp_path)
    affected = trees.including(["base/d.yaml"])
    assert affected == ["base", "dev", "prod"]
    assert trees.outermost(affected) == ["dev", "prod"]
    assert trees.closure("dev") == {"dev/kustomization.yaml", "base", "base/kustomization.yaml", "base/d.yaml"}


def test_only_candidate_kustomizations_are_parsed(tmp_path: Path) -> None:
    files = {f"apps/x{i}/kustomization.yaml": "resources: [d.yaml]\n" for i in range(50)}
    files.update({f"apps/x{i}/d.yaml": "x: 1\n" for i in range(50)})
    write(tmp_path, files)
    trees = KustomizeTrees(tmp_path)
    assert trees.including(["apps/x7/d.yaml"]) == ["apps/x7"]
    assert set(trees._refs) == {"apps/x7"}
