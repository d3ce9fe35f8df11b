"""Refusing an edit that breaks a Kustomize tree: build the trees it touches, after the edit.

The trees are the outermost kustomizations that read an edited file (see `kustomize_trees`). The
after-state is built in a temporary copy of just what they read; the tree itself is never written.
All trees are first built together in one kustomize process; if that fails, each is built alone, and
a tree that fails is built once more from the same copy without the edit: failing there too means it
was broken before (a warning), building there means the edit breaks it (`ValidationFailed`).

The repository is untrusted, so validation reads nothing outside it and fetches nothing: only
paths inside the tree are copied, never through a symlink (file or directory); kustomize runs with
its load restrictor (`LoadRestrictionsRootOnly`) in the copy, with proxies pointed at a closed port
and git limited to file://; a tree whose kustomizations name a path outside the repository
(absolute, or `..` past the root) is not built, nor, unless the operator passes `allow_remote`
(`--allow-remote-resources`), one that names a remote resource (a URL, a git repository). A
warning says which tree was skipped and why.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from updater import kustomize
from updater.bump.model import BumpPlan
from updater.bump.kustomize_trees import KustomizeTrees
from updater.errors import ValidationFailed

log = logging.getLogger(__name__)


# Defence in depth under the remote-resource check: a fetch kustomize still tries goes nowhere.
_OFFLINE = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9",
            "https_proxy": "http://127.0.0.1:9", "NO_PROXY": "", "no_proxy": "", "GIT_ALLOW_PROTOCOL": "file"}


def validate_plan(root: Path, plan: BumpPlan, *, allow_remote: bool = False) -> None:
    """Raise `ValidationFailed` if a Kustomize tree that built before the plan no longer builds."""
    if not plan.files:
        return
    root = root.resolve()
    trees = KustomizeTrees(root)
    tops = trees.outermost(trees.including(plan.files))
    tops = [top for top in tops if not _reaches_out(top, trees.outside(top), [] if allow_remote else trees.remote(top))]
    env = None if allow_remote else _OFFLINE
    if not tops:
        return
    log.info("validating: building %d Kustomize tree(s) the edit touches", len(tops))
    with tempfile.TemporaryDirectory(prefix="updater-validate-") as temp:
        copy = Path(temp) / "tree"
        _copy_inputs(root, copy, {p for top in tops for p in (top, *trees.closure(top))})
        _write(copy, plan.new_contents)
        if _builds_together(Path(temp), [copy / k for k in tops], env):
            log.debug("validated: the %d trees build together after the edit", len(tops))
            return
        failures = _build_all([(k, copy / k) for k in tops], env)
        if not failures:
            return
        # Same copy, original bytes: a tree that fails here too was broken before (or reads a file
        # we did not copy); either way the edit is not shown to break it.
        _write(copy, plan.old_contents)
        before = {k for k, _ in _build_all([(k, copy / k) for k, _ in failures], env)}
    for directory in sorted(before):
        log.warning("%s: kustomize build fails without the edit too; not blocking on it", directory or ".")
    broken = [f"{k or '.'}: {reason}" for k, reason in failures if k not in before]
    if broken:
        raise ValidationFailed(
            f"the edit would break kustomize build of {broken[0]}"
            + (f" (and {len(broken) - 1} more)" if len(broken) > 1 else "")
            + "; nothing was written (fix the tree or use --no-validate)"
        )


def _reaches_out(top: str, outside: list[str], remote: list[str]) -> bool:
    """Warn about, and say whether to skip, a tree naming paths outside the tree or remote resources."""
    if outside:
        log.warning("%s: not validated: its Kustomize tree names %r, outside the repository; updater reads "
                    "nothing outside it", top or ".", outside[0])
    elif remote:
        log.warning("%s: not validated: its Kustomize tree names a remote resource (%s) that kustomize would "
                    "fetch; pass --allow-remote-resources to allow that", top or ".", remote[0])
    return bool(outside or remote)


def _copy_inputs(root: Path, copy: Path, paths: set[str]) -> None:
    """Copy what the trees read, at the same relative paths: every regular file directly in their
    kustomizations' directories and in the directories they name, and every file they name.
    Nothing is copied through a symlink, file or directory (nothing outside the tree is read)."""
    for path in sorted(paths):
        if not _plainly_inside(root, path):
            log.warning("%s: not copied for validation: it is outside the tree or reached through a symlink",
                        path)
            continue
        source = root / path
        if source.is_dir():
            (copy / path).mkdir(parents=True, exist_ok=True)
            with os.scandir(source) as entries:
                for entry in entries:
                    if entry.is_file(follow_symlinks=False):
                        shutil.copyfile(entry.path, copy / path / entry.name)
        elif source.is_file():
            (copy / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, copy / path)


def _plainly_inside(root: Path, rel: str) -> bool:
    """`rel` is relative, stays under `root`, and no component of it is a symlink."""
    parts = rel.split("/") if rel else []
    if rel.startswith("/") or ".." in parts:
        return False
    current = root
    for part in parts:
        current = current / part
        if current.is_symlink():
            return False
    return True


def _write(copy: Path, contents: dict[str, bytes]) -> None:
    for rel, data in contents.items():
        target = copy / rel
        if target.parent.is_dir():
            target.write_bytes(data)


def _builds_together(temp: Path, directories: list[Path], env: dict[str, str] | None) -> bool:
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
        kustomize.build(batch, env=env)
    except kustomize.RenderFailed:
        return False
    return True


def _build_all(jobs: list[tuple[str, Path]], env: dict[str, str] | None) -> list[tuple[str, str]]:
    """(kustomization dir, reason) for each build that fails."""
    def one(job: tuple[str, Path]) -> tuple[str, str] | None:
        try:
            kustomize.build(job[1], env=env)
        except kustomize.RenderFailed as err:
            return job[0], err.reason
        return None

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1, len(jobs))) as pool:
        return [failure for failure in pool.map(one, jobs) if failure]
