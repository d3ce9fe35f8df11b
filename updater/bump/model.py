"""The values the bump engine hands to everything after it (CLI output, git, forges).

This is the contract between the engine and its callers: frozen dataclasses, no behaviour beyond
derived views. Callers never re-parse manifests; they read a `BumpPlan`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

# Where a reference was found; the README's "Where image references live" lists them.
Kind = Literal[
    "container",  # image: of a containers/initContainers/ephemeralContainers entry
    "kustomize",  # images: entry of a kustomization (newTag / digest)
    "helm",  # Helm values mapping (repository+tag[+digest]) or image: string in values
    "argocd-kustomize",  # Argo CD Application spec.source(s).kustomize.images string
    "marker-image",  # scalar marked `# updater:image=<name>`
    "marker-tag",  # scalar marked `# updater:tag=<name>`
]


@dataclass(frozen=True)
class Change:
    """One value that changes: `old` and `new` are the scalar's text as the reference reads it."""

    path: str  # posix path relative to the tree root
    line: int  # 1-based line of the value
    kind: Kind
    image: str  # the normalised image name this change is for, e.g. docker.io/acme/api
    old: str  # full reference before, e.g. ghcr.io/acme/api:1.4.1 (tag-only kinds: as rendered)
    new: str  # full reference after


@dataclass(frozen=True)
class BumpPlan:
    """Everything one bump would do. `if not plan.changes:` means nothing to commit."""

    changes: tuple[Change, ...] = ()
    # relative posix path -> complete new file bytes, only for files that change
    new_contents: dict[str, bytes] = field(default_factory=dict)
    # relative posix path -> the bytes they were computed from (to detect concurrent edits)
    old_contents: dict[str, bytes] = field(default_factory=dict)
    # references to the requested images that already point at the requested version
    current: tuple[Change, ...] = ()
    # human-readable notes: skipped invalid YAML, symlinks out of the tree...
    warnings: tuple[str, ...] = ()

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(sorted(self.new_contents))

    @classmethod
    def combine(cls, plans: Sequence[BumpPlan], *, warnings: Sequence[str] = ()) -> BumpPlan:
        """One plan for `plans` applied one after another to the same tree (each planned on the
        tree the previous one left): a file's old bytes are the first plan's, its new bytes the
        last plan's; changes and current references in order; warnings once each."""
        old_contents: dict[str, bytes] = {}
        new_contents: dict[str, bytes] = {}
        for plan in plans:
            for path, data in plan.old_contents.items():
                old_contents.setdefault(path, data)
            new_contents.update(plan.new_contents)
        return cls(tuple(c for p in plans for c in p.changes), new_contents, old_contents,
                   tuple(c for p in plans for c in p.current),
                   tuple(dict.fromkeys([*warnings, *(w for p in plans for w in p.warnings)])))
