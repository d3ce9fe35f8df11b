"""Finding the places in one YAML file where an image reference lives. Pure: text in, sites out.

The kinds (README "Where image references live"):
- `container`: `image` of each entry of `containers`, `initContainers`, `ephemeralContainers` in any
  object at any depth (so Pods, every workload, CronJob templates, `kind: List` items and custom
  resources such as Argo Rollouts or Knative Services are all covered by one rule);
- `kustomize`: `images:` entries of a kustomization file (and of a Flux `Kustomization`'s `spec.images`);
- `helm`: in Helm values (`values*.yaml` files, Flux `HelmRelease` `spec.values`, Argo CD
  `Application` `spec.source(s).helm.valuesObject`), mappings with `repository` + `tag` keys
  (optional `registry`, `digest`) and `image` keys holding a whole reference; also the spellings
  public charts use without markers: `name` + `tag` and `repo` + `tag` in a mapping under an image
  key (`image:`, `sidecarImage:`...: elsewhere a `name` is rarely an image), and `image` + `tag`
  where `image` holds only the repository. The repository value must read as an image name without
  a tag and `tag` as a tag, so `name: my release` or `tags:` never match;
- `argocd-kustomize`: Argo CD `Application` `spec.source(s).kustomize.images` strings
  (`[alias=]name:tag`);
- `marker-image` / `marker-tag`: a scalar followed on its line by `# updater:image=<name>` (the
  scalar is a whole reference) or `# updater:tag=<name>` (the scalar is the tag of <name>).
"""

from __future__ import annotations

import bisect
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass

from updater.manifests.yaml import Mapping, Scalar, Sequence, YamlNode, walk
from updater.refs import ImageRef, InvalidReference, is_tag

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_VALUES_FILE = re.compile(r"values.*\.ya?ml")
_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
MARKER = re.compile(r"#[ \t]*updater:(?P<what>image|tag)=(?P<name>[^\s#]+)")


@dataclass(frozen=True)
class RefSite:
    """A scalar holding a whole reference (after `offset` characters: Argo CD's `alias=` prefix)."""

    kind: str  # container | helm | argocd-kustomize | marker-image
    scalar: Scalar
    offset: int = 0
    marker_name: str | None = None  # marker-image: the name the marker says this is

    @property
    def text(self) -> str:
        return self.scalar.value[self.offset:]


@dataclass(frozen=True)
class TagSite:
    """A scalar holding only the tag of `name` (marker-tag)."""

    scalar: Scalar
    name: str
    kind: str = "marker-tag"


@dataclass(frozen=True)
class KustomizeSite:
    """One `images:` entry: name, optional newName, newTag, digest."""

    entry: Mapping
    kind: str = "kustomize"


@dataclass(frozen=True)
class HelmSite:
    """A values mapping with a repository and a `tag` scalar (optional `registry`, `digest`)."""

    mapping: Mapping
    kind: str = "helm"
    name_key: str = "repository"  # the key holding the repository: repository | name | repo | image


Site = RefSite | TagSite | KustomizeSite | HelmSite


def is_kustomization_file(path: str) -> bool:
    return posixpath.basename(path) in KUSTOMIZATION_NAMES


def is_values_file(path: str) -> bool:
    return _VALUES_FILE.fullmatch(posixpath.basename(path)) is not None


def find_sites(text: str, documents: list[YamlNode], *, path: str) -> tuple[list[Site], list[str]]:
    """Every site in the file, each value once, and warnings about markers that mark nothing."""
    sites: list[Site] = []
    for document in documents:
        sites.extend(_container_sites(document))
        if is_kustomization_file(path) and isinstance(document, Mapping):
            sites.extend(_kustomize_sites(document.get("images")))
        if is_values_file(path):
            sites.extend(_helm_sites(document))
        for obj in _objects(document):
            sites.extend(_resource_sites(obj))
    marker_sites, warnings = _marker_sites(text, documents, path)
    return _unique(sites + marker_sites), warnings


def _objects(document: YamlNode) -> Iterator[Mapping]:
    """The Kubernetes objects of a document: itself, or the items of a `kind: List`."""
    if not isinstance(document, Mapping):
        return
    yield document
    items = document.get("items")
    if _text(document.get("kind")).endswith("List") and isinstance(items, Sequence):
        yield from (item for item in items.items if isinstance(item, Mapping))


def _container_sites(document: YamlNode) -> Iterator[Site]:
    for node in walk(document):
        if not isinstance(node, Mapping):
            continue
        for list_key in _CONTAINER_LISTS:
            containers = node.get(list_key)
            if not isinstance(containers, Sequence):
                continue
            for container in containers.items:
                if isinstance(container, Mapping) and (image := container.scalar("image")):
                    yield RefSite("container", image)


def _kustomize_sites(images: YamlNode | None) -> Iterator[Site]:
    if isinstance(images, Sequence):
        for entry in images.items:
            if isinstance(entry, Mapping) and entry.scalar("name"):
                yield KustomizeSite(entry)


def _helm_sites(values: YamlNode | None) -> Iterator[Site]:
    if values is None:
        return
    for key, node in _keyed_mappings(values):
        if node.scalar("repository") and node.scalar("tag"):
            yield HelmSite(node)
            continue
        if not _is_tag(node.scalar("tag")):
            split = None
        elif _is_bare_name(node.scalar("image")):
            split = "image"  # image: acme/api + tag: 1.2 (image holds only the repository)
        elif key.lower().endswith("image"):
            split = next((k for k in ("name", "repo") if _is_bare_name(node.scalar(k))), None)
        else:
            split = None
        if split:
            yield HelmSite(node, name_key=split)
        elif (image := node.scalar("image")) and image.value:
            yield RefSite("helm", image)


def _keyed_mappings(values: YamlNode) -> Iterator[tuple[str, Mapping]]:
    """Every mapping under `values` with the key it sits under ("" for the top and list items)."""
    if isinstance(values, Mapping):
        yield "", values
    for node in walk(values):
        if isinstance(node, Mapping):
            for k, v in node.pairs:
                if isinstance(v, Mapping):
                    yield _text(k), v
        elif isinstance(node, Sequence):
            yield from (("", item) for item in node.items if isinstance(item, Mapping))


def _is_bare_name(node: Scalar | None) -> bool:
    """An image name without tag or digest (`nginx`, `ghcr.io/acme/api`), not any string."""
    if node is None or not node.value or node.value != node.value.strip():
        return False
    ref = ImageRef.try_parse(node.value)
    return ref is not None and not ref.version


def _is_tag(node: Scalar | None) -> bool:
    return node is not None and bool(node.value) and is_tag(node.value)


def _resource_sites(obj: Mapping) -> Iterator[Site]:
    api_version, kind = _text(obj.get("apiVersion")), _text(obj.get("kind"))
    spec = obj.get("spec")
    if not isinstance(spec, Mapping):
        return
    if kind == "HelmRelease" and api_version.startswith("helm.toolkit.fluxcd.io/"):
        yield from _helm_sites(spec.get("values"))
    elif kind == "Kustomization" and api_version.startswith("kustomize.toolkit.fluxcd.io/"):
        yield from _kustomize_sites(spec.get("images"))
    elif kind == "Application" and api_version.startswith("argoproj.io/"):
        sources = spec.get("sources")
        for source in [spec.get("source"), *(sources.items if isinstance(sources, Sequence) else [])]:
            if isinstance(source, Mapping):
                yield from _argo_source_sites(source)


def _argo_source_sites(source: Mapping) -> Iterator[Site]:
    helm, kustomize = source.get("helm"), source.get("kustomize")
    if isinstance(helm, Mapping):
        yield from _helm_sites(helm.get("valuesObject"))
    images = kustomize.get("images") if isinstance(kustomize, Mapping) else None
    if isinstance(images, Sequence):
        for item in images.items:
            if isinstance(item, Scalar) and item.value:
                alias, equals, _ = item.value.partition("=")
                yield RefSite("argocd-kustomize", item, offset=len(alias) + 1 if equals else 0)


def _marker_sites(text: str, documents: list[YamlNode], path: str) -> tuple[list[Site], list[str]]:
    if "updater:" not in text:
        return [], []
    scalars = sorted((s for s in _value_scalars(documents) if s.editable), key=lambda s: s.end)
    ends = [s.end for s in scalars]
    sites: list[Site] = []
    warnings: list[str] = []
    for match in MARKER.finditer(text):
        line_start = text.rfind("\n", 0, match.start()) + 1
        line = text.count("\n", 0, match.start()) + 1
        where = f"{path}:{line}"
        try:
            name = ImageRef.parse_reference(match["name"])
        except InvalidReference as err:
            warnings.append(f"{where}: marker {match.group(0)!r} ignored: {err}")
            continue
        at = bisect.bisect_right(ends, match.start()) - 1
        if at < 0 or scalars[at].end < line_start:
            warnings.append(f"{where}: marker {match.group(0)!r} ignored: no value before it on its line")
            continue
        scalar = scalars[at]
        if match["what"] == "image":
            sites.append(RefSite("marker-image", scalar, marker_name=name.name))
        else:
            sites.append(TagSite(scalar, name.name))
    return sites, warnings


def _value_scalars(documents: list[YamlNode]) -> Iterator[Scalar]:
    """Scalars in value position (never mapping keys: a marker marks a value)."""
    for document in documents:
        if isinstance(document, Scalar):
            yield document
        for node in walk(document):
            children = [v for _, v in node.pairs] if isinstance(node, Mapping) else node.items if isinstance(node, Sequence) else []
            yield from (child for child in children if isinstance(child, Scalar))


def _unique(sites: list[Site]) -> list[Site]:
    """One site per value: a marker wins over a structural kind for the same scalar."""
    by_node: dict[int, Site] = {}
    for site in sites:
        if isinstance(site, KustomizeSite):
            node: object = site.entry
        elif isinstance(site, HelmSite):
            node = site.mapping
        else:
            node = site.scalar
        if site.kind.startswith("marker-"):
            by_node[id(node)] = site
        else:
            by_node.setdefault(id(node), site)
    return list(by_node.values())


def _text(node: YamlNode | None) -> str:
    return node.value if isinstance(node, Scalar) else ""
