"""The versions a source environment holds: every versioned image reference under its `paths`
globs, read with the bump engine's locator. Reads files of a checked-out tree; no git, no network."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from updater.bump.planfile import held_references
from updater.bump.tree import manifest_files, path_filter, read_file
from updater.errors import BadInput, NoReferenceFound
from updater.manifests.yaml import YamlSyntaxError
from updater.refs import canonical_name


@dataclass(frozen=True)
class SourceVersions:
    refs: tuple[str, ...]  # one reference per image, e.g. ghcr.io/acme/api:1.5.0 (sorted by name)
    files: tuple[str, ...]  # the files holding them (the evidence commit is the last to change one)


def source_versions(root: Path, paths: Sequence[str], *, image: str | None, where: str) -> SourceVersions:
    """`image` (a name) limits to that image; `where` names the source target in messages."""
    selected = path_filter(paths)
    warnings: list[str] = []
    want = canonical_name(image) if image else None
    by_name: dict[str, set[str]] = {}
    files: set[str] = set()
    for rel, absolute in manifest_files(root, warnings, worth_entering=selected.worth_entering):
        if not selected(rel):
            continue
        try:
            refs = held_references(read_file(absolute).decode("utf-8"), path=rel)
        except (UnicodeDecodeError, YamlSyntaxError):
            continue  # not a manifest the engine would edit either
        for ref in refs:
            if want is None or ref.canonical_name == want:
                by_name.setdefault(ref.canonical_name, set()).add(str(ref))
                files.add(rel)
    if not by_name:
        scope = f" of {image}" if image else ""
        raise NoReferenceFound(f"{where}: no image reference{scope} under paths {', '.join(paths) or '(whole tree)'}")
    for name, versions in by_name.items():
        if len(versions) > 1:
            raise BadInput(f"{where} holds several versions of {name} ({', '.join(sorted(versions))}): "
                           "promote needs one; align the source environment first")
    return SourceVersions(tuple(next(iter(by_name[name])) for name in sorted(by_name)), tuple(sorted(files)))
