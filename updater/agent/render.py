"""Render an app's path in a checkout into the list of objects to apply.

A directory with a kustomization is built by kustomize (subprocess, via `updater.kustomize`); any other
directory is read recursively (`*.yaml`, `*.yml`, `*.json`; hidden directories skipped), and a
subdirectory holding a kustomization is built as one unit. YAML documents that are not Kubernetes
objects (CI files, Helm values, notes) are ignored with a note. Files (and built documents) that
carry a `sops:` block are decrypted in memory with the operator's age identities (`updater.agent.sops`:
per file, and after the build for Kustomize). Any error fails the whole render:
nothing is applied from a half-rendered tree. Reads files and runs kustomize; never talks to a cluster.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from updater import kustomize
from updater.agent import confine, sops, yamldocs
from updater.agent.sops import sources as sops_sources
from updater.agent.objects import Obj, ObjectKey, is_kubernetes_object, key_of
from updater.errors import ValidationFailed

_SUFFIXES = (".yaml", ".yml", ".json")


class RenderError(ValidationFailed):
    """The app's path does not render; its sync stops and nothing is applied or pruned."""


@dataclass(frozen=True)
class Rendered:
    objects: tuple[Obj, ...]
    notes: tuple[str, ...] = ()  # documents ignored, and why


def parse_documents(text: str | bytes, *, source: str, identities: sops.Identities = sops.NO_IDENTITIES,
                    originals: sops.Originals | None = None) -> Rendered:
    """The Kubernetes objects in a multi-document YAML text (`kind: List` expanded)."""
    try:
        documents = yamldocs.load_all(text)
    except yamldocs.YAMLLimitExceeded as err:
        raise RenderError(f"{source}: refused: {err} (YAML limits: see the README's Security section)") from err
    except yamldocs.YAMLError as err:
        reason = " ".join(str(err).split())
        raise RenderError(f"{source}: not valid YAML: {reason}") from err
    if any(sops.carries_sops(doc) for doc in documents):  # a SopsError stops the render like a RenderError
        if originals is None:  # a file: decrypted whole, as `sops -d` does
            documents = sops.decrypt_text(text, identities, source=source, json_format=source.endswith(".json"))
        else:  # a build: each document on its own, verified through its source file
            documents = sops.decrypt_documents(text, identities, source=source, originals=originals, parsed=documents)
    objects: list[Obj] = []
    notes: list[str] = []
    for index, doc in enumerate(documents, start=1):
        if doc is None:
            continue
        if isinstance(doc, dict) and str(doc.get("kind", "")).endswith("List") and isinstance(doc.get("items"), list):
            items = doc["items"]
        else:
            items = [doc]
        for item in items:
            if is_kubernetes_object(item):
                objects.append(item)
            else:
                notes.append(f"{source}: document {index} ignored: not a Kubernetes object "
                             "(needs apiVersion, kind and metadata.name)")
    return Rendered(tuple(objects), tuple(notes))


def merge(parts: Iterable[Rendered]) -> Rendered:
    """All parts together; the same object declared twice is an error (which one would win?)."""
    objects: list[Obj] = []
    notes: list[str] = []
    seen: dict[ObjectKey, int] = {}
    for part in parts:
        for obj in part.objects:
            key = key_of(obj)
            if key in seen:
                raise RenderError(f"{key} is declared twice: keep one definition")
            seen[key] = len(objects)
            objects.append(obj)
        notes.extend(part.notes)
    return Rendered(tuple(objects), tuple(notes))


def resolve_path(root: Path, path: str) -> Path:
    """`path` inside the checkout `root`, refusing anything that escapes it (`..`, absolute, symlinks)."""
    base = root.resolve()
    target = (base / path).resolve()
    if target != base and base not in target.parents:
        raise RenderError(f"path {path!r} leaves the repository: give a path inside it")
    if not target.exists():
        raise RenderError(f"path {path!r} does not exist in the repository")
    return target


class ParseCache:
    """Parsed files by (path, content digest), kept from one render to the next, so a new commit
    re-parses only the files it changed (a 2,000-file tree takes seconds to parse, a digest
    milliseconds). Keeps only the files the last render used. The cached objects are shared between
    renders: callers copy before changing them (as `objects.mark` does)."""

    def __init__(self, identities: sops.Identities = sops.NO_IDENTITIES) -> None:
        self.identities = identities  # age identities for sops files (from the operator, never the repo)
        self._entries: dict[tuple[str, bytes], Rendered] = {}
        self._used: dict[tuple[str, bytes], Rendered] = {}

    def parse(self, text: bytes, *, source: str) -> Rendered:
        key = (source, hashlib.sha1(text).digest())
        found = self._entries.get(key) or parse_documents(text, source=source, identities=self.identities)
        self._used[key] = found
        return found

    def finish(self) -> None:
        self._entries, self._used = self._used, {}


def render_tree(root: Path, path: str, *, cache: ParseCache | None = None, allow_remote: bool = False) -> Rendered:
    """Every object under `path` of the checkout at `root`, in file order. Nothing outside `root` is
    read: symlinks leading out are errors, and kustomizations are confined (`confine`); kustomize
    may fetch remote resources only with `allow_remote` (the operator's `kustomize_remote`)."""
    cache = cache or ParseCache()
    base = root.resolve()
    target = resolve_path(root, path)
    if target.is_file():
        rendered = cache.parse(target.read_bytes(), source=_rel(base, target))
    else:
        rendered = merge(_render_dir(base, target, cache, allow_remote))
    cache.finish()
    return rendered


def _render_dir(base: Path, directory: Path, cache: ParseCache, allow_remote: bool) -> Iterable[Rendered]:
    if kustomize.is_kustomization_dir(directory):
        yield _build(base, directory, cache, allow_remote)
        return
    for current, dirs, files in os.walk(directory):  # never descends into a symlinked directory
        here = Path(current)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for sub in dirs:
            if (here / sub).is_symlink():
                resolve_path(base, _rel(base, here / sub))  # a link may not lead out of the repository
        for sub in [d for d in dirs if kustomize.is_kustomization_dir(here / d)]:
            dirs.remove(sub)
            yield _build(base, here / sub, cache, allow_remote)
        for name in sorted(files):
            if name.endswith(_SUFFIXES) and not name.startswith("."):
                file = here / name
                if file.is_symlink():
                    resolve_path(base, _rel(base, file))  # a link may not lead out of the repository
                yield cache.parse(file.read_bytes(), source=_rel(base, file))


def _build(base: Path, directory: Path, cache: ParseCache, allow_remote: bool) -> Rendered:
    source = f"{_rel(base, directory)} (kustomize)"
    try:
        confine.check_kustomization(base, directory, allow_remote=allow_remote)
    except confine.Escape as err:
        raise RenderError(f"{source}: {err}") from err
    try:
        text = kustomize.build(directory)
    except kustomize.RenderFailed as err:
        raise RenderError(f"{source}: {err}") from err
    return parse_documents(text, source=source, identities=cache.identities,
                           originals=sops_sources.checkout_originals(base))


def _rel(base: Path, path: Path) -> str:
    """`path` relative to the resolved checkout `base` (string arithmetic: no filesystem calls)."""
    return os.path.relpath(path, base)
