"""Planning the bump of one file: which of its sites refer to the requested images, and the edits.

Pure: the text of one file in, a `FilePlan` out (changes, references already current, the new
text, warnings). The engine runs this on every file that passes the byte screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from updater.bump.model import Change
from updater.manifests.edit import Edit, EditConflict, delete_key, replace_scalar, set_key, splice
from updater.manifests.locate import HelmSite, KustomizeSite, RefSite, Site, TagSite, find_sites
from updater.manifests.yaml import Mapping, Scalar, YamlSyntaxError, parse_documents
from updater.refs import ImageRef, canonical_name, is_digest, is_tag
from updater.versions import is_downgrade


@dataclass(frozen=True)
class FilePlan:
    changes: tuple[Change, ...] = ()
    current: tuple[Change, ...] = ()
    downgrades: tuple[Change, ...] = ()  # changes that move to a lower version (kept out of `changes`)
    new_text: str | None = None  # None: the file does not change
    warnings: tuple[str, ...] = ()


@dataclass
class _Found:
    """A site that refers to a requested image: what it is now, and what the request makes it."""

    site: Site
    request: ImageRef
    old: ImageRef
    new: ImageRef
    line: int
    warnings: list[str] = field(default_factory=list)


def plan_file(
    text: str, *, path: str, requests: Sequence[ImageRef], allow_downgrade: bool = False
) -> FilePlan:
    """Plan one file. Raises `YamlSyntaxError` when it is not YAML (the engine warns and skips).

    Downgrades are planned as changes only with `allow_downgrade`; otherwise they are listed in
    `FilePlan.downgrades` and left out of the edit.
    """
    documents = parse_documents(text)
    sites, warnings = find_sites(text, documents, path=path)
    by_name = {request.canonical_name: request for request in requests}
    found = [f for site in sites if (f := _match(site, by_name)) is not None]
    changes, current, downgrades, edits, left = [], [], [], [], []
    for item in found:
        change = Change(path, item.line, item.site.kind, item.request.canonical_name, str(item.old), str(item.new))  # type: ignore[arg-type]
        if _is_current(item):
            current.append(change)
        elif is_downgrade(item.old.tag, item.new.tag) and not allow_downgrade:
            downgrades.append(change)
            left.append(change.old)
        else:
            try:
                item_edits = _edits(text, item)
            except ValueError as err:
                warnings.append(f"{path}:{item.line}: {item.old} left unchanged: {err}")
                left.append(change.old)
                continue
            if item_edits and all(edit in edits for edit in item_edits):
                continue  # the same value found twice (a marker on a Helm `tag:` line): one change
            edits.extend(item_edits)
            changes.append(change)
        warnings.extend(f"{path}:{item.line}: {w}" for w in item.warnings)
    if not edits:
        return FilePlan((), tuple(current), tuple(downgrades), None, tuple(warnings))
    try:
        new_text = splice(text, edits)
    except EditConflict as err:
        # One value playing two roles that want different text (an alias used as a whole reference
        # and as a tag): editing either would break the other.
        warning = f"{path}: left unchanged: one value is used in two places that need different text ({err})"
        return FilePlan((), tuple(current), tuple(downgrades), None, (*warnings, warning))
    # Replacing one scalar's text with a correctly quoted scalar cannot change the structure (the
    # property tests hold it to that); adding or removing keys is re-read to be sure.
    if any(edit.structural for edit in edits):
        _check(new_text, path=path, requests=requests, left=left)
    return FilePlan(tuple(changes), tuple(current), tuple(downgrades), new_text, tuple(warnings))


def _match(site: Site, by_name: dict[str, ImageRef]) -> _Found | None:
    old, line = _current(site)
    if old is None:
        return None
    if isinstance(site, RefSite) and not old.version:
        return None  # `image: ghcr.io/acme/api` pins nothing: a placeholder a kustomize overlay sets
    if isinstance(site, RefSite) and site.marker_name:
        request = by_name.get(canonical_name(site.marker_name))
    else:
        request = by_name.get(old.canonical_name)
    if request is None:
        return None
    found = _Found(site, request, old, old, line)
    found.new = _desired(found)
    return found


def _current(site: Site) -> tuple[ImageRef | None, int]:
    """The effective reference a site holds now (in the manifest's spelling) and its line."""
    if isinstance(site, RefSite):
        return ImageRef.try_parse(site.text), site.scalar.line
    if isinstance(site, TagSite):
        tag = site.scalar.value
        return (ImageRef(site.name, tag or None) if not tag or is_tag(tag) else None), site.scalar.line
    mapping = site.entry if isinstance(site, KustomizeSite) else site.mapping
    if isinstance(site, KustomizeSite):
        name = _value(mapping, "newName") or _value(mapping, "name")
        tag, digest = _value(mapping, "newTag"), _value(mapping, "digest")
        anchor = mapping.scalar("newTag") or mapping.scalar("digest") or mapping.scalar("name")
    else:
        registry, repository = _value(mapping, "registry"), _value(mapping, site.name_key)
        name = f"{registry}/{repository}" if registry and repository else repository
        tag, digest = _value(mapping, "tag"), _value(mapping, "digest")
        anchor = mapping.scalar("tag")
    if not name or (tag and not is_tag(tag)) or (digest and not is_digest(digest)):
        return None, 0
    ref = ImageRef.try_parse(name)
    if ref is None or ref.version:
        return None, 0
    assert anchor is not None
    return ImageRef(ref.name, tag or None, digest or None), anchor.line


def _desired(item: _Found) -> ImageRef:
    """What the site will hold after the bump (what it can hold: a tag-only place holds no digest)."""
    old, request, site = item.old, item.request, item.site
    tag_only_place = isinstance(site, TagSite) or (isinstance(site, HelmSite) and site.mapping.get("digest") is None)
    if tag_only_place and request.tag:
        return ImageRef(old.name, request.tag)
    if isinstance(site, HelmSite) and not request.tag and not tag_only_place:
        return ImageRef(old.name, old.tag, request.digest)
    return old.with_version(request.tag, request.digest)


def _is_current(item: _Found) -> bool:
    if item.new == item.old:
        return True
    # Same tag, no digest requested: a digest pinned in the manifest is not known to be stale.
    return item.request.digest is None and item.old.tag == item.request.tag


def _edits(text: str, item: _Found) -> list[Edit]:
    site, new, request = item.site, item.new, item.request
    if isinstance(site, RefSite):
        return [replace_scalar(site.scalar, site.scalar.value[:site.offset] + str(new))]
    if isinstance(site, TagSite):
        if not request.tag:
            raise ValueError("a tag marker cannot hold a digest-only reference")
        if request.digest:
            item.warnings.append("the digest was not written: the marked value holds only a tag")
        return [replace_scalar(site.scalar, request.tag)]
    if isinstance(site, HelmSite):
        return _helm_edits(site.mapping, item)
    return _kustomize_edits(text, site.entry, new)


def _kustomize_edits(text: str, entry: Mapping, new: ImageRef) -> list[Edit]:
    edits = []
    # Inserted keys go after the last entry; two inserts at one point keep this order.
    if new.tag:
        edits.append(set_key(text, entry, "newTag", new.tag))
    elif entry.get("newTag") is not None:
        edits.append(delete_key(text, entry, "newTag"))
    if new.digest:
        edits.append(set_key(text, entry, "digest", new.digest))
    elif entry.get("digest") is not None:
        edits.append(delete_key(text, entry, "digest"))
    return edits


def _helm_edits(mapping: Mapping, item: _Found) -> list[Edit]:
    tag, digest = mapping.scalar("tag"), mapping.get("digest")
    assert tag is not None
    edits = []
    if item.request.tag:
        edits.append(replace_scalar(tag, item.request.tag))
    if isinstance(digest, Scalar):
        if digest.value != (item.new.digest or ""):
            edits.append(replace_scalar(digest, item.new.digest or ""))
    elif item.request.digest:
        if not item.request.tag:
            raise ValueError("no `digest` key next to `tag` to hold a digest-only reference")
        item.warnings.append("the digest was not written: no `digest` key next to `tag`")
    return edits


def _check(new_text: str, *, path: str, requests: Sequence[ImageRef], left: list[str]) -> None:
    """The edited text must parse, and planning it again must find nothing left to change but
    what was deliberately left (refused downgrades, values we could not write)."""
    try:
        again = remaining_changes(new_text, path=path, requests=requests)
    except YamlSyntaxError as err:
        raise AssertionError(f"{path}: the edit produced invalid YAML: {err}") from err
    if sorted(again) != sorted(left):
        raise AssertionError(f"{path}: after the edit these still differ: {', '.join(again)}")


def remaining_changes(text: str, *, path: str, requests: Sequence[ImageRef]) -> list[str]:
    """The references in `text` that the requests would still change (empty after a correct edit)."""
    documents = parse_documents(text)
    sites, _ = find_sites(text, documents, path=path)
    by_name = {request.canonical_name: request for request in requests}
    found = [f for site in sites if (f := _match(site, by_name)) is not None]
    return [str(f.old) for f in found if not _is_current(f)]


def held_references(text: str, *, path: str) -> list[ImageRef]:
    """Every versioned reference `text` holds, as the engine's locator reads them (`updater promote`
    reads a source environment's versions with it). Raises `YamlSyntaxError` as `plan_file` does."""
    sites, _ = find_sites(text, parse_documents(text), path=path)
    return [ref for site in sites if (ref := _current(site)[0]) is not None and ref.version]


def _value(mapping: Mapping, key: str) -> str:
    node = mapping.get(key)
    return node.value if isinstance(node, Scalar) else ""
