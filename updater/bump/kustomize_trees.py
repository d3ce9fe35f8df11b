"""Which Kustomize trees include which files: the kustomizations of a tree and what they name.

A kustomization includes a file when it names it (resources, patches, generators...) or names a
directory whose kustomization includes it. Finding the trees that include a few edited files must not
parse every kustomization of a large repository, so each kustomization's text is first split into
words, and only one with a word that resolves to an edited file (or to an already affected tree) is
parsed to confirm. The words are a superset of the paths it names, so no tree is missed.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from pathlib import Path

from updater.bump.tree import manifest_files, read_file
from updater.manifests.kustomization import local_references, remote_references
from updater.manifests.locate import KUSTOMIZATION_NAMES
from updater.manifests.yaml import LIMITS

_WORD = re.compile(r"[^\s'\"\[\]{},=#]+")
_MAX_WORD = 512


class KustomizeTrees:
    """The kustomizations under `root`, keyed by directory (posix, relative; "" for root)."""

    def __init__(self, root: Path) -> None:
        self.files: dict[str, tuple[str, str]] = {}  # directory -> (kustomization path, text)
        for rel, full in manifest_files(root, []):
            directory = posixpath.dirname(rel)
            # kustomize refuses two kustomization files in one directory; keep the first
            if posixpath.basename(rel) in KUSTOMIZATION_NAMES and directory not in self.files:
                # past the YAML limit the text is not parsed anyway (its refs: none)
                self.files[directory] = (rel, read_file(full, limit=LIMITS.max_chars).decode("utf-8", "replace"))
        self._refs: dict[str, list[str]] = {}

    def refs(self, directory: str) -> list[str]:
        """The kustomization file itself and every local path it names, relative to root."""
        if directory not in self._refs:
            rel, text = self.files[directory]
            paths = [rel]
            for ref in local_references(text):
                joined = posixpath.normpath(posixpath.join(directory, ref))
                # an absolute path or one climbing out is outside the checkout: never read (nor copied)
                if not posixpath.isabs(joined) and joined != ".." and not joined.startswith("../"):
                    paths.append("" if joined == "." else joined)
            self._refs[directory] = paths
        return self._refs[directory]

    def remote(self, directory: str) -> list[str]:
        """What the kustomizations of `directory`'s tree would fetch over the network."""
        return [ref for d in self._tree(directory) for ref in remote_references(self.files[d][1])]

    def outside(self, directory: str) -> list[str]:
        """Paths the kustomizations of `directory`'s tree name outside the root (absolute, or climbing
        out with `..`): kustomize's load restrictor still lets a kustomization include a directory
        anywhere, so such a tree is never built."""
        found = []
        for d in self._tree(directory):
            for ref in local_references(self.files[d][1]):
                joined = posixpath.normpath(posixpath.join(d, ref))
                if posixpath.isabs(joined) or joined == ".." or joined.startswith("../"):
                    found.append(ref)
        return found

    def _tree(self, directory: str) -> list[str]:
        return sorted(self.closure(directory) & self.files.keys() | {directory})

    def closure(self, directory: str) -> set[str]:
        """Every path the kustomization in `directory` reads, through the kustomizations it includes."""
        paths: set[str] = set()
        pending, seen = [directory], set()
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            for path in self.refs(current):
                paths.add(path)
                if path in self.files:
                    pending.append(path)
        return paths

    def including(self, touched: Iterable[str]) -> list[str]:
        """Directories of the kustomizations that read any of `touched` (directly or transitively)."""
        targets = set(touched)
        affected = {d for d, (rel, _) in self.files.items() if rel in targets}
        targets |= affected
        words = {d: [w for w in _WORD.findall(text) if len(w) < _MAX_WORD] for d, (_, text) in self.files.items()}
        changed = True
        while changed:
            changed = False
            names = {posixpath.basename(t) for t in targets}
            for directory, candidates in words.items():
                if directory in affected or not self._may_name(directory, candidates, names, targets):
                    continue
                if targets.intersection(self.refs(directory)):
                    affected.add(directory)
                    targets.add(directory)
                    changed = True
        return sorted(affected)

    def outermost(self, directories: list[str]) -> list[str]:
        """Those of `directories` that no other of them includes (an overlay's build covers its bases)."""
        included = set().union(*(self.closure(d) - {d} for d in directories)) if directories else set()
        return [d for d in directories if d not in included]

    @staticmethod
    def _may_name(directory: str, words: list[str], names: set[str], targets: set[str]) -> bool:
        for word in words:
            last = word.rstrip("/").rpartition("/")[2]
            if last in names or last in (".", ".."):
                joined = posixpath.normpath(posixpath.join(directory, word))
                if ("" if joined == "." else joined) in targets:
                    return True
        return False
