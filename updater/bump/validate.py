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
    # Build only the outermost trees: an overlay's build includes its bases'.
    tops = [k for k in affected if not any(k in _closure(graph, other) for other in affected if other != k)]
    if not tops:
        return
    log.info("validating: building %d Kustomize tree(s) the edit touches", len(tops))
    with tempfile.TemporaryDirectory(prefix="updater-validate-") as temp:
        copy = Path(temp) / "tree"
        _copy_inputs(root, copy, graph, affected)
        _write(copy, plan.new_contents)
        if _builds_together(Path(temp), [copy / k for k in tops]):
            log.debug("validated: the %d trees build together after the edit", len(tops))
            return
        failures = _build_all([(k, copy / k) for k in tops])
        if not failures:
            return
        # Same copy, original bytes: a tree that fails here too was broken before (or reads a file
        # we did not copy); either way the edit is not shown to break it.
        _write(copy, plan.old_contents)
        before = {k for k, _ in _build_all([(k, copy / k) for k, _ in failures])}
    for directory in sorted(before):
        log.warning("%s: kustomize build fails without the edit too; not blocking on it", directory or ".")
    broken = [f"{k or '.'}: {reason}" for k, reason in failures if k not in before]
    if broken:
        raise ValidationFailed(
            f"the edit would break kustomize build of {broken[0]}"
            + (f" (and {len(broken) - 1} more)" if len(broken) > 1 else "")
            + "; nothing was written (fix the tree or use --no-validate)"
        )


def _copy_inputs(root: Path, copy: Path, graph: Graph, kustomizations: list[str]) -> None:
    """Copy what the kustomizations read, at the same relative paths: every regular file directly in
    their directories and in the directories they name, and every file they name. Symlinks are not
    followed (nothing outside the tree is read)."""
    for path in sorted({p for k in kustomizations for p in (k, *_closure(graph, k))}):
        source = root / path
        if source.is_symlink():
            continue
        if source.is_dir():
            (copy / path).mkdir(parents=True, exist_ok=True)
            with os.scandir(source) as entries:
                for entry in entries:
                    if entry.is_file(follow_symlinks=False):
                        shutil.copyfile(entry.path, copy / path / entry.name)
        elif source.is_file():
            (copy / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, copy / path)


def _write(copy: Path, contents: dict[str, bytes]) -> None:
    for rel, data in contents.items():
        target = copy / rel
        if target.parent.is_dir():
            target.write_bytes(data)


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


def _builds_together(temp: Path, directories: list[Path]) -> bool:
    """Whether one `kustomize build` of a kustomization listing every tree succeeds: one process
    instead of one per tree. False also when two trees render an object with the same name, which
    kustomize refuses in one build; the caller then builds the trees one by one."""
    if len(directories) < 2:
        return False
    batch = temp / "all-trees"
    batch.mkdir()
    listed = "".join(f"- {os.path.relpath(d, batch)}\n" for d in directories)
    (batch / "kustomization.yaml").write_text(f"resources:\n{listed}")
    try:
        kustomize.build(batch)
    except kustomize.RenderFailed:
        return False
    return True


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
