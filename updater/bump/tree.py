"""Walking a manifest tree safely: which files are candidates, and `--path` globs.

Only regular files named `*.yaml`, `*.yml` or `Kustomization` are candidates. `.git/` is skipped.
Symlinks are never followed (a link inside the tree is reached through its target anyway; a link out
of the tree is reported), so nothing outside the root is read. A file larger than the YAML loader's
size limit is skipped with a warning after reading one byte past the limit, so a huge file in the
repository costs no more memory than the limit.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from updater.errors import BadInput
from updater.manifests.yaml import LIMITS

_MANIFEST_SUFFIXES = (".yaml", ".yml")
_SKIPPED_DIRS = {".git"}
_READ_SIZE = 1 << 16  # under malloc's mmap threshold: a 1 MiB buffer per read costs 5x the read itself
_CHUNK = 1000
_THREADS = 4


def is_manifest_name(name: str) -> bool:
    return name.endswith(_MANIFEST_SUFFIXES) or name == "Kustomization"


def manifest_files(
    root: Path, warnings: list[str], *, worth_entering: Callable[[str], bool] | None = None
) -> list[tuple[str, str]]:
    """(posix path relative to root, absolute path) of every candidate file, sorted by path.

    `worth_entering(relative dir)` can prune directories no selected file can be under.
    """
    found: list[tuple[str, str]] = []
    stack = [("", str(root))]
    while stack:
        rel_dir, abs_dir = stack.pop()
        if rel_dir and worth_entering is not None and not worth_entering(rel_dir):
            continue
        try:
            with os.scandir(abs_dir) as entries:
                prefix = f"{rel_dir}/" if rel_dir else ""
                for entry in entries:
                    if entry.is_symlink():
                        if _points_outside(entry.path, root) and (entry.is_dir() or is_manifest_name(entry.name)):
                            warnings.append(f"{prefix}{entry.name}: skipped, a symlink to outside the tree")
                    elif entry.is_dir(follow_symlinks=False):
                        if entry.name not in _SKIPPED_DIRS:
                            stack.append((prefix + entry.name, entry.path))
                    elif is_manifest_name(entry.name) and entry.is_file(follow_symlinks=False):
                        found.append((prefix + entry.name, entry.path))
        except OSError as err:
            warnings.append(f"{rel_dir or '.'}: skipped, cannot list it ({err.strerror})")
    found.sort()
    return found


def files_mentioning(
    root: Path, tokens: Sequence[bytes], *, selected: PathFilter, warnings: list[str]
) -> list[tuple[str, bytes]]:
    """(relative path, bytes) of the selected candidate files containing any of `tokens`, sorted.

    Reading is spread over a few threads: the reads release the GIL, and on a 20,000-file tree they
    are most of a bump's time.
    """
    files = [(rel, full) for rel, full in manifest_files(root, warnings, worth_entering=selected.worth_entering)
             if selected(rel)]
    chunks = [files[i:i + _CHUNK] for i in range(0, len(files), _CHUNK)]

    def screen(chunk: list[tuple[str, str]]) -> tuple[list[tuple[str, bytes]], list[str]]:
        found, problems = [], []
        for rel, full in chunk:
            try:
                data = read_file(full, limit=LIMITS.max_chars)
            except OSError as err:
                problems.append(f"{rel}: skipped, cannot read it ({err.strerror})")
                continue
            if len(data) > LIMITS.max_chars:
                problems.append(f"{rel}: skipped, larger than the {LIMITS.max_chars >> 20} MiB limit for a YAML file")
                continue
            if any(token in data for token in tokens):
                found.append((rel, data))
        return found, problems

    if len(chunks) <= 1:
        results = [screen(chunk) for chunk in chunks]
    else:
        with ThreadPoolExecutor(max_workers=_THREADS) as pool:
            results = list(pool.map(screen, chunks))
    for _, problems in results:
        warnings.extend(problems)
    return [item for found, _ in results for item in found]


def read_file(path: str, *, limit: int | None = None) -> bytes:
    """The whole file, with fewer system calls than `open().read()` (this runs 20,000 times a bump);
    with `limit`, at most `limit + 1` bytes (more than `limit` means "too large")."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        chunks = [os.read(fd, _READ_SIZE)]
        size = len(chunks[-1])
        # a short read of a regular file means end of file
        while len(chunks[-1]) == _READ_SIZE and (limit is None or size <= limit):
            chunks.append(os.read(fd, _READ_SIZE))
            size += len(chunks[-1])
        return b"".join(chunks)
    finally:
        os.close(fd)


def _points_outside(path: str, root: Path) -> bool:
    target = Path(os.path.realpath(path))
    return target != root and root not in target.parents


@dataclass(frozen=True)
class PathFilter:
    """Which files `--path` globs select: a file a glob matches, or under a directory one matches.

    `*` and `?` stay within one path segment; `**` spans any number of segments. No globs: all.
    """

    pattern: re.Pattern[str] | None = None
    prefixes: tuple[str, ...] = ()  # each glob's leading directories before any wildcard

    def __call__(self, rel: str) -> bool:
        if self.pattern is None:
            return True
        path = rel
        while path:
            if self.pattern.fullmatch(path):
                return True
            path = posixpath.dirname(path)
        return False

    def worth_entering(self, directory: str) -> bool:
        """Whether a selected file can be under `directory` (so the walk can skip the rest)."""
        return self.pattern is None or any(
            not p or directory == p or p.startswith(directory + "/") or directory.startswith(p + "/")
            for p in self.prefixes
        )


def path_filter(globs: Sequence[str]) -> PathFilter:
    if not globs:
        return PathFilter()
    for glob in globs:
        parts = glob.replace("\\", "/").split("/")
        if not glob or glob.startswith("/") or ".." in parts or re.match(r"^[A-Za-z]:", glob):
            raise BadInput(f"--path {glob!r}: give a glob relative to --dir, without '..' (e.g. 'apps/**/prod/*.yaml')")
    pattern = re.compile("|".join(f"(?:{_glob_regex(g)})" for g in globs))
    return PathFilter(pattern, tuple(_literal_prefix(g) for g in globs))


def _literal_prefix(glob: str) -> str:
    """The leading directories of a glob before any wildcard (`apps/api` for `apps/api/*/x.yaml`)."""
    literal = []
    for part in posixpath.normpath(glob.replace("\\", "/")).split("/"):
        if any(c in part for c in "*?["):
            break
        literal.append(part)
    prefix = "/".join(literal)
    return "" if prefix == "." else prefix


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
