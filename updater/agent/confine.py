"""Keep a kustomize build inside the checkout: every input a kustomization names stays in the tree.

kustomize's default load restrictor (root only) stops a kustomization from reading files outside
its own directory, but not from naming another kustomization anywhere (`resources: [../../x]` is
how overlays reach their bases), and it fetches remote resources (git, http) on its own. The
repository is untrusted, so before each build this walks the kustomization graph: every local
input (resources, components, patches, generator files...) must resolve, symlinks followed, to a
path inside the checkout; an input that is not a local path is a remote one, refused unless the
operator allowed remote resources. Reads kustomization files only; runs nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from updater.agent import yamldocs
from updater.kustomize import KUSTOMIZATION_NAMES

# fields holding a list of paths (file, directory or URL)
_PATH_LISTS = ("resources", "bases", "components", "crds", "configurations", "generators", "transformers",
               "validators", "patchesStrategicMerge")
# fields holding a list of mappings with a `path`
_PATH_ITEMS = ("patches", "patchesJson6902", "replacements")
_GENERATORS = ("configMapGenerator", "secretGenerator", "helmChartInflationGenerator")
_REMOTE_HINTS = ("://", "::", "git@", "?ref=")


class Escape(ValueError):
    """An input leaves the checkout, or is remote while remote resources are off."""


def kustomization_file(directory: Path) -> Path | None:
    return next((directory / n for n in KUSTOMIZATION_NAMES if (directory / n).is_file()), None)


def check_kustomization(root: Path, directory: Path, *, allow_remote: bool = False) -> None:
    """Raise `Escape` when the kustomization in `directory`, or one it names, reaches outside `root`."""
    base = root.resolve()
    seen: set[Path] = set()
    pending = [directory]
    while pending:
        current = _inside(base, pending.pop(), what="kustomization directory")
        if current in seen:
            continue
        seen.add(current)
        file = kustomization_file(current)
        if file is None:
            continue
        _inside(base, file, what="kustomization file")
        try:
            data = yamldocs.load(file.read_bytes())
        except (OSError, yamldocs.YAMLError) as err:
            raise Escape(f"{_rel(base, file)}: cannot read it: {' '.join(str(err).split())}") from err
        if not isinstance(data, dict):
            continue  # kustomize reports a malformed kustomization better than we would
        for entry, directories_too in _inputs(data):
            target = current / entry
            if not _exists(target):
                if allow_remote or not _looks_remote(entry):
                    continue  # kustomize fetches it, or says that it is missing
                raise Escape(f"{_rel(base, file)}: remote resource {entry!r} refused (remote resources are "
                             "off: the operator can allow them with kustomize_remote)")
            resolved = _inside(base, target, what=f"{_rel(base, file)}: {entry!r}")
            if directories_too and resolved.is_dir():
                pending.append(resolved)


def _inputs(data: dict[str, Any]) -> Iterator[tuple[str, bool]]:
    """(path, may be a kustomization directory) for every input the kustomization names."""
    for field in _PATH_LISTS:
        for entry in _list(data.get(field)):
            if isinstance(entry, str) and "\n" not in entry:  # a multi-line string is an inline patch
                yield entry, True
    for field in _PATH_ITEMS:
        for item in _list(data.get(field)):
            if isinstance(item, dict) and isinstance(item.get("path"), str):
                yield item["path"], False
    openapi = data.get("openapi")
    if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
        yield openapi["path"], False
    for field in _GENERATORS:
        for item in _list(data.get(field)):
            if not isinstance(item, dict):
                continue
            for source in [*_list(item.get("files")), *_list(item.get("envs")), item.get("env"),
                           item.get("valuesFile"), item.get("chartHome")]:
                if isinstance(source, str) and source:
                    yield source.partition("=")[2] or source, False  # `key=path` or `path`
    helm = data.get("helmGlobals")
    if isinstance(helm, dict) and isinstance(helm.get("chartHome"), str):
        yield helm["chartHome"], False


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _exists(path: Path) -> bool:
    try:
        return path.exists() or path.is_symlink()  # a dangling link is local, and refused below if out
    except OSError:
        return False


def _looks_remote(entry: str) -> bool:
    """What kustomize would try to fetch: a URL, a go-getter or scp-like address, or `host.tld/path`."""
    first = entry.split("/", 1)[0]
    return any(hint in entry for hint in _REMOTE_HINTS) or ("/" in entry and "." in first.strip("."))


def _inside(base: Path, path: Path, *, what: str) -> Path:
    resolved = path.resolve()
    if resolved != base and base not in resolved.parents:
        raise Escape(f"{what} leads out of the repository (to {_rel(base, path)}): keep every input inside it")
    return resolved


def _rel(base: Path, path: Path) -> str:
    try:
        return str(path.absolute().relative_to(base))
    except ValueError:
        return str(path)
