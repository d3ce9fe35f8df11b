"""Refusing an edit that breaks a Kustomize tree: build the trees it touches, after the edit, and
(given a Kubernetes version) check what they render and the touched plain files against its schemas.

The trees are the outermost kustomizations that read an edited file (see `kustomize_trees`). The
after-state is built in a temporary copy of just what they read; the tree itself is never written.
All trees are first built together in one kustomize process; if that fails, each is built alone, and
a tree that fails is built once more from the same copy without the edit: failing there too means it
was broken before (a warning), building there means the edit breaks it (`ValidationFailed`).
The rendered objects (and those of each touched file no tree reads) are then checked against the
Kubernetes schemas (`validate_schema`); only when the after-state has violations is the before-state
rendered too, and only violations it did not have refuse the edit.

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
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from updater import kustomize
from updater.bump import kube_schema
from updater.bump.model import BumpPlan
from updater.bump.kustomize_trees import KustomizeTrees
from updater.bump.validate_schema import SchemaCheck, check_file, check_text, log_summary, refuse_new
from updater.errors import ValidationFailed
from updater.manifests.yaml import YamlSyntaxError

log = logging.getLogger(__name__)


# Defence in depth under the remote-resource check: a fetch kustomize still tries goes nowhere.
_OFFLINE = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9",
            "https_proxy": "http://127.0.0.1:9", "NO_PROXY": "", "no_proxy": "", "GIT_ALLOW_PROTOCOL": "file"}


def validate_plan(root: Path, plan: BumpPlan, *, allow_remote: bool = False, kube_version: str | None = None) -> None:
    """Raise `ValidationFailed` if a Kustomize tree that built before the plan no longer builds, or
    (with `kube_version`) if the plan adds a schema violation to an object of a touched tree or file."""
    if not plan.files:
        return
    root = root.resolve()
    trees = KustomizeTrees(root)
    including = trees.including(plan.files)
    tops = trees.outermost(including)
    tops = [top for top in tops if not _reaches_out(top, trees.outside(top), [] if allow_remote else trees.remote(top))]
    env = None if allow_remote else _OFFLINE
    warm = threading.Thread(target=kube_schema.preload, args=(kube_version,), daemon=True) if kube_version else None
    if warm is not None:
        warm.start()
    checked = SchemaCheck()
    if tops:
        checked = _validate_trees(root, plan, trees, tops, env, kube_version, warm)
    if kube_version is not None:
        if warm is not None:
            warm.join()
        checked += _validate_plain(plan, _in_trees(trees, including), kube_version)
        log_summary(checked, version=kube_version)


def _validate_trees(root: Path, plan: BumpPlan, trees: KustomizeTrees, tops: list[str], env: dict[str, str] | None,
                    kube_version: str | None, warm: threading.Thread | None) -> SchemaCheck:
    log.info("validating: building %d Kustomize tree(s) the edit touches", len(tops))
    with tempfile.TemporaryDirectory(prefix="updater-validate-") as temp:
        copy = Path(temp) / "tree"
        _copy_inputs(root, copy, {p for top in tops for p in (top, *trees.closure(top))})
        _write(copy, plan.new_contents)
        built, failures = _render(Path(temp), copy, tops, env)
        if failures:
            # Same copy, original bytes: a tree that fails here too was broken before (or reads a
            # file we did not copy); either way the edit is not shown to break it.
            _write(copy, plan.old_contents)
            _refuse_broken(failures, {k for k, _ in _build_all([(k, copy / k) for k, _ in failures], env)})
        if kube_version is None or not built:
            return SchemaCheck()
        if warm is not None:
            warm.join()
        after = _check_rendered(built, kube_version)
        if after.problems:  # only then is the before-state needed: an object may have been invalid already
            _write(copy, plan.old_contents)
            before = _check_rendered(_render(Path(temp), copy, [k for k, _ in built if k is not None] or tops,
                                             env, batch_name="before")[0], kube_version)
            refuse_new(after, before, version=kube_version)
        return after


def _refuse_broken(failures: list[tuple[str, str]], before: set[str]) -> None:
    for directory in sorted(before):
        log.warning("%s: kustomize build fails without the edit too; not blocking on it", directory or ".")
    broken = [f"{k or '.'}: {reason}" for k, reason in failures if k not in before]
    if broken:
        raise ValidationFailed(
            f"the edit would break kustomize build of {broken[0]}"
            + (f" (and {len(broken) - 1} more)" if len(broken) > 1 else "")
            + "; nothing was written (fix the tree or use --no-validate)"
        )


def _check_rendered(built: list[tuple[str | None, bytes]], version: str) -> SchemaCheck:
    """The objects kustomize rendered: `None` marks the batch build, whose objects carry their origin."""
    checked = SchemaCheck()
    for directory, output in built:
        text = output.decode("utf-8", "replace")
        try:
            if directory is None:
                checked += check_text(text, source="(kustomize build)", version=version, origin_prefix="../tree/")
            else:
                checked += check_text(text, source=f"{directory or '.'} (kustomize build)", version=version)
        except YamlSyntaxError as err:  # beyond the YAML limits: say so, do not guess
            log.warning("%s: kustomize output not schema-validated: %s", directory or "the trees", err)
    return checked


def _in_trees(trees: KustomizeTrees, including: list[str]) -> set[str]:
    """The files a Kustomize tree reads (validated through its build, not one by one: a patch file
    is a partial object) and the kustomization files themselves."""
    covered = {rel for rel, _ in trees.files.values()}
    for directory in including:
        covered |= trees.closure(directory)
    return covered


def _validate_plain(plan: BumpPlan, in_trees: set[str], version: str) -> SchemaCheck:
    checked = SchemaCheck()
    for rel in plan.files:
        if rel in in_trees:
            continue
        after = check_file(plan.new_contents[rel].decode("utf-8", "replace"), source=rel, version=version)
        if after.problems:
            before = check_file(plan.old_contents[rel].decode("utf-8", "replace"), source=rel, version=version)
            refuse_new(after, before, version=version)
        checked += after
    return checked


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


def _render(temp: Path, copy: Path, tops: list[str], env: dict[str, str] | None, *,
            batch_name: str = "all-trees") -> tuple[list[tuple[str | None, bytes]], list[tuple[str, str]]]:
    """The outputs of building `tops` and the (tree, reason) of each that fails. First one `kustomize
    build` of a kustomization listing every tree (one process instead of one per tree, and kustomize
    annotates each object with the file it came from); if that fails (a tree that does not build,
    or two trees rendering an object with the same name, which one build refuses), each tree alone."""
    batch = temp / batch_name
    batch.mkdir()
    listed = "".join(f"- {os.path.relpath(copy / d, batch)}\n" for d in tops)
    (batch / "kustomization.yaml").write_text(f"buildMetadata: [originAnnotations]\nresources:\n{listed}")
    try:
        output = kustomize.build(batch, env=env)
    except kustomize.RenderFailed:
        log.debug("the %d tree(s) do not build together: built one by one", len(tops))
    else:
        log.debug("the %d trees build together (%s)", len(tops), batch_name)
        return [(None, output)], []
    outputs: dict[str, bytes] = {}
    failures = _build_all([(k, copy / k) for k in tops], env, outputs)
    return [(k, outputs[k]) for k in tops if k in outputs], failures


def _build_all(jobs: list[tuple[str, Path]], env: dict[str, str] | None,
               outputs: dict[str, bytes] | None = None) -> list[tuple[str, str]]:
    """(kustomization dir, reason) for each build that fails; `outputs` gets those that build."""
    def one(job: tuple[str, Path]) -> tuple[str, str] | None:
        try:
            output = kustomize.build(job[1], env=env)
        except kustomize.RenderFailed as err:
            return job[0], err.reason
        if outputs is not None:
            outputs[job[0]] = output
        return None

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1, len(jobs))) as pool:
        return [failure for failure in pool.map(one, jobs) if failure]
