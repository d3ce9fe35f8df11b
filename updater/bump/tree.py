"""Walking a manifest tree safely: which files are candidates, and `--path` globs.

Only regular files named `*.yaml`, `*.yml` or `Kustomization` are candidates. `.git/` is skipped.
Symlinks are never followed (a link inside the tree is reached through its target anyway; a link out
of the tree is reported), so nothing outside the root is read.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from updater.errors import BadInput

_MANIFEST_SUFFIXES = (".yaml", ".yml")
_SKIPPED_DIRS = {".git"}


def is_manifest_name(name: str) -> bool:
    return name.endswith(_MANIFEST_SUFFIXES) or name == "Kustomization"


def manifest_files(root: Path, warnings: list[str]) -> Iterator[tuple[str, str]]:
    """(posix path relative to root, absolute path) of every candidate file, in sorted order."""
    stack = [("", str(root))]
    while stack:
        rel_dir, abs_dir = stack.pop()
        try:
            entries = sorted(os.scandir(abs_dir), key=lambda e: e.name, reverse=True)
        except OSError as err:
            warnings.append(f"{rel_dir or '.'}: skipped, cannot list it ({err.strerror})")
            continue
        subdirs = []
        for entry in reversed(entries):
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if entry.is_symlink():
                if (entry.name in _SKIPPED_DIRS or is_manifest_name(entry.name) or entry.is_dir()) and _points_outside(entry.path, root):
                    warnings.append(f"{rel}: skipped, a symlink to outside the tree")
                continue
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in _SKIPPED_DIRS:
                    subdirs.append((rel, entry.path))
            elif is_manifest_name(entry.name) and entry.is_file(follow_symlinks=False):
                yield rel, entry.path
        stack.extend(reversed(subdirs))


def _points_outside(path: str, root: Path) -> bool:
    target = Path(os.path.realpath(path))
    return target != root and root not in target.parents


def path_filter(globs: Sequence[str]) -> Callable[[str], bool]:
    """A predicate on relative posix paths: matched by a glob, or under a directory a glob matches.

    `*` and `?` stay within one path segment; `**` spans any number of segments. No globs: all match.
    """
    if not globs:
        return lambda rel: True
    for glob in globs:
        parts = glob.replace("\\", "/").split("/")
        if not glob or glob.startswith("/") or ".." in parts or re.match(r"^[A-Za-z]:", glob):
            raise BadInput(f"--path {glob!r}: give a glob relative to --dir, without '..' (e.g. 'apps/**/prod/*.yaml')")
    pattern = re.compile("|".join(f"(?:{_glob_regex(g)})" for g in globs))

    def selected(rel: str) -> bool:
        if pattern.fullmatch(rel):
            return True
        parent = posixpath.dirname(rel)
        while parent:
            if pattern.fullmatch(parent):
                return True
            parent = posixpath.dirname(parent)
        return False

    return selected


def _glob_regex(glob: str) -> str:
    glob = posixpath.normpath(glob.replace("\\", "/")).removeprefix("./")
    out, i = [], 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        elif glob[i] == "[" and (close := glob.find("]", i + 2)) > 0:
            body = glob[i + 1:close]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body).replace("\\", "\\\\") + "]")
            i = close + 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return "".join(out)
