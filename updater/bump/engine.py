"""The bump engine's three steps on a tree: plan (read only), validate, apply (atomic writes).

`plan_bump` walks the tree, screens each file's bytes for the requested images before parsing
(most files of a large repository never reach the YAML parser), plans each file with
`planfile.plan_file` and applies the run-wide rules: downgrades refused, every image found.
`apply_plan` writes every changed file or none. `validate_plan` lives in `validate` (re-exported).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from updater.bump.model import BumpPlan, Change
from updater.bump.planfile import plan_file
from updater.bump.tree import files_mentioning, path_filter
from updater.bump.validate import validate_plan
from updater.errors import BadInput, ChangedUnderUs, NoReferenceFound, PolicyRefused
from updater.manifests.yaml import YamlSyntaxError
from updater.refs import DOCKER_HUB, ImageRef

__all__ = ["apply_plan", "plan_bump", "validate_plan"]

log = logging.getLogger(__name__)


def plan_bump(
    root: Path,
    images: Sequence[ImageRef],
    *,
    paths: Sequence[str] = (),
    allow_downgrade: bool = False,
    allow_missing: bool = False,
) -> BumpPlan:
    """Every change that bumping `images` under `root` (limited to `paths` globs) makes. Read only."""
    root = _tree_root(root)
    requests = _check_requests(images)
    selected = path_filter(paths)
    # Every spelling of a name, in a value or in a marker, contains its token: skip other files unparsed.
    tokens = sorted({screen_token(request) for request in requests})
    changes: list[Change] = []
    current: list[Change] = []
    downgrades: list[Change] = []
    warnings: list[str] = []
    new_contents: dict[str, bytes] = {}
    old_contents: dict[str, bytes] = {}
    for rel, data in files_mentioning(root, tokens, selected=selected, warnings=warnings):
        try:
            text = data.decode("utf-8")
            planned = plan_file(text, path=rel, requests=requests, allow_downgrade=allow_downgrade)
        except UnicodeDecodeError:
            warnings.append(f"{rel}: skipped, not UTF-8 text")
            continue
        except YamlSyntaxError as err:
            warnings.append(f"{rel}: skipped, not valid YAML (a template?): {_short(str(err))}")
            continue
        changes.extend(planned.changes)
        current.extend(planned.current)
        downgrades.extend(planned.downgrades)
        warnings.extend(planned.warnings)
        if planned.new_text is not None:
            new_contents[rel] = planned.new_text.encode("utf-8")
            old_contents[rel] = data
    if downgrades:
        raise PolicyRefused(_downgrade_message(downgrades))
    missing = [r for r in requests if not any(c.image == r.canonical_name for c in (*changes, *current))]
    if missing:
        message = _missing_message(missing, paths)
        if not allow_missing:
            raise NoReferenceFound(message)
        warnings.append(message)
    # Files are walked in order but a file's sites are found kind by kind: report them by line.
    return BumpPlan(tuple(sorted(changes, key=_place)), new_contents, old_contents,
                    tuple(sorted(current, key=_place)), tuple(warnings))


def apply_plan(root: Path, plan: BumpPlan) -> None:
    """Write the plan: every file or none. Each file is replaced atomically (temp file + rename)
    with its mode kept, and only if it still holds the bytes the plan was computed from."""
    root = _tree_root(root)
    staged: list[tuple[Path, str]] = []  # (target, temp file)
    try:
        for rel in plan.files:
            target = _inside(root, rel)
            if target.read_bytes() != plan.old_contents[rel]:
                raise ChangedUnderUs(f"{rel} changed while updater was planning the edit; nothing was written, run again")
            staged.append((target, _stage(target, plan.new_contents[rel])))
    except BaseException:
        for _, temp in staged:
            _unlink(temp)
        raise
    done: list[Path] = []
    try:
        for target, temp in staged:
            os.replace(temp, target)
            done.append(target)
    except BaseException:
        _roll_back(root, plan, done)
        for target, temp in staged[len(done):]:
            _unlink(temp)
        raise


def _place(change: Change) -> tuple[str, int]:
    return change.path, change.line


def screen_token(request: ImageRef) -> bytes:
    """Bytes every spelling of the image's name contains: its path without the registry
    (`acme/api` for ghcr.io/acme/api; `nginx` for docker.io/library/nginx)."""
    domain, _, path = request.canonical_name.partition("/")
    if domain == DOCKER_HUB:
        path = path.removeprefix("library/")
    return path.encode()


def _tree_root(root: Path) -> Path:
    if not root.is_dir():
        raise BadInput(f"--dir {str(root)!r} is not a directory")
    return root.resolve()


def _check_requests(images: Sequence[ImageRef]) -> list[ImageRef]:
    if not images:
        raise BadInput("--image is required: give the new reference, e.g. --image ghcr.io/acme/api:1.4.2")
    by_name: dict[str, ImageRef] = {}
    for image in images:
        if not image.tag and not image.digest:
            raise BadInput(f"--image {image}: no tag or digest; give the new version, e.g. --image {image}:1.4.2")
        seen = by_name.setdefault(image.canonical_name, image)
        if seen.version != image.version:
            raise BadInput(f"--image given twice for {image.canonical_name} ({seen} and {image}): give one version")
    return list(by_name.values())


def _inside(root: Path, rel: str) -> Path:
    """`root/rel`, refusing anything that resolves outside root or is a symlink."""
    target = root / rel
    if target.is_symlink() or root not in target.resolve().parents:
        raise BadInput(f"{rel}: refusing to write a path that is a symlink or outside {root}")
    return target


def _stage(target: Path, data: bytes) -> str:
    mode = target.stat().st_mode & 0o7777
    handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".updater")
    try:
        # No fsync, like git and `sed -i`: the rename makes each file change atomic for readers, and
        # syncing 200 files costs more than the rest of a bump.
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temp, mode)
    except BaseException:
        _unlink(temp)
        raise
    return temp


def _roll_back(root: Path, plan: BumpPlan, done: list[Path]) -> None:
    """Put back the files already replaced when a later replace failed (best effort, atomic each)."""
    for target in done:
        rel = target.relative_to(root).as_posix()
        try:
            os.replace(_stage(target, plan.old_contents[rel]), target)
        except OSError as err:
            log.error("could not restore %s after a failed write: %s", rel, err)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _downgrade_message(downgrades: list[Change]) -> str:
    first = downgrades[0]
    more = f" (and {len(downgrades) - 1} more)" if len(downgrades) > 1 else ""
    return (f"refusing to downgrade {first.old} to {first.new} in {first.path}:{first.line}{more}; "
            "nothing was changed (use --allow-downgrade to allow it)")


def _missing_message(missing: list[ImageRef], paths: Sequence[str]) -> str:
    names = ", ".join(r.canonical_name for r in missing)
    scope = f" under --path {' '.join(paths)}" if paths else ""
    return f"no reference to {names} found{scope} (use --allow-missing to make this a success)"


def _short(message: str, limit: int = 160) -> str:
    return message if len(message) <= limit else message[: limit - 3] + "..."
