"""Refusing an edit that breaks a Kustomize tree: build the trees it touches, after the edit.

A tree is affected when its kustomization (or one it includes, transitively) names an edited file,
or is itself edited. The after-state is built in a temporary copy of the smallest directory holding
those trees and everything they name; the tree itself is never written. Only when a build fails do
we build the original too: a tree that did not build before the edit is not the edit's fault (a
warning), one that did is a `ValidationFailed`.
"""

from __future__ import annotations

import logging
import os
import posixpath
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from updater import kustomize
from updater.bump.model import BumpPlan
from updater.bump.tree import manifest_files
from updater.errors import ValidationFailed
from updater.manifests.kustomization import local_references
from updater.manifests.locate import KUSTOMIZATION_NAMES

log = logging.getLogger(__name__)


def validate_plan(root: Path, plan: BumpPlan) -> None:
    """Raise `ValidationFailed` if a Kustomize tree that built before the plan no longer builds."""
    if not plan.files:
        return
    root = root.resolve()
    graph = _kustomize_graph(root)
    affected = _affected(graph, set(plan.files))
    if not affected:
        return
    scope = _common_dir(root, [p for k in affected for p in (k, *_closure(graph, k))])
    log.info("validating: building %d kustomization(s) after the edit", len(affected))
    with tempfile.TemporaryDirectory(prefix="updater-validate-") as temp:
        copy = Path(temp) / "tree"
        shutil.copytree(root / scope if scope else root, copy, symlinks=True,
                        ignore=shutil.ignore_patterns(".git"))
        for rel, data in plan.new_contents.items():
            if _under(rel, scope):
                (copy / _relative(rel, scope)).write_bytes(data)
        failures = _build_all([(k, copy / _relative(k, scope)) for k in affected])
    broken = []
    for directory, reason in failures:
        before = _build_all([(directory, root / directory)])
        if before:
            log.warning("%s: kustomize build fails before the edit too; not blocking on it", directory or ".")
        else:
            broken.append(f"{directory or '.'}: {reason}")
    if broken:
        raise ValidationFailed(
            f"the edit would break kustomize build of {broken[0]}"
            + (f" (and {len(broken) - 1} more)" if len(broken) > 1 else "")
            + "; nothing was written (fix the tree or use --no-validate)"
        )


# kustomization dir (posix, relative to root; "" for root) -> the paths it names, relative to root
Graph = dict[str, list[str]]


def _kustomize_graph(root: Path) -> Graph:
    graph: Graph = {}
    for rel, full in manifest_files(root, []):
        if posixpath.basename(rel) not in KUSTOMIZATION_NAMES:
            continue
        directory = posixpath.dirname(rel)
        if directory in graph:  # kustomize itself refuses two kustomization files in one dir
            continue
        with open(full, "rb") as handle:
            text = handle.read().decode("utf-8", "replace")
        graph[directory] = [rel]
        for ref in local_references(text):
            joined = posixpath.normpath(posixpath.join(directory, ref))
            if joined != ".." and not joined.startswith("../"):
                graph[directory].append("" if joined == "." else joined)
    return graph


def _closure(graph: Graph, directory: str, seen: set[str] | None = None) -> set[str]:
    """Every path the kustomization in `directory` reads, through included kustomizations."""
    seen = set() if seen is None else seen
    if directory in seen:
        return set()
    seen.add(directory)
    paths: set[str] = set()
    for path in graph.get(directory, []):
        paths.add(path)
        if path in graph and path != directory:
            paths |= _closure(graph, path, seen)
    return paths


def _affected(graph: Graph, touched: set[str]) -> list[str]:
    return sorted(k for k in graph if touched & _closure(graph, k))


def _build_all(jobs: list[tuple[str, Path]]) -> list[tuple[str, str]]:
    """(kustomization dir, reason) for each build that fails."""
    def one(job: tuple[str, Path]) -> tuple[str, str] | None:
        try:
            kustomize.build(job[1])
        except kustomize.RenderFailed as err:
            return job[0], err.reason
        return None

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1, len(jobs))) as pool:
        return [failure for failure in pool.map(one, jobs) if failure]


def _under(path: str, directory: str) -> bool:
    return not directory or path == directory or path.startswith(directory + "/")


def _relative(path: str, directory: str) -> str:
    return path[len(directory) + 1:] if directory else path


def _common_dir(root: Path, paths: list[str]) -> str:
    """The deepest directory (relative to root) holding every one of `paths`."""
    dirs = [p if not p or (root / p).is_dir() else posixpath.dirname(p) for p in paths]
    common = os.path.commonpath(["/" + d for d in dirs])
    return common.lstrip("/")
