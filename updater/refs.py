"""Container image references: parse, validate, normalise, re-render.

Follows the distribution reference grammar (github.com/distribution/reference): an optional
registry host (with port), a path of lowercase components, then an optional `:tag` and/or
`@algorithm:hex` digest. Two spellings of a name compare equal after normalisation (`nginx`,
`library/nginx`, `docker.io/library/nginx`, `index.docker.io/library/nginx`), but an `ImageRef`
keeps the name exactly as it was written, so re-rendering a manifest's reference keeps its spelling.
Every character class is spelled out in ASCII (and the patterns compile with `re.ASCII`): Python's
`\\w` and `\\d` match any Unicode letter or digit, so `1.４.2` (a full-width 4) would pass as a tag.
Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from updater.errors import BadInput

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(
    rf"(?P<name>(?:(?P<domain>{_DOMAIN})/)?{_COMPONENT}(?:/{_COMPONENT})*)"
    rf"(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?",
    re.ASCII,
)
_TAG_ONLY = re.compile(_TAG, re.ASCII)
_DIGEST_ONLY = re.compile(_DIGEST, re.ASCII)
_NAME_MAX = 255
DOCKER_HUB = "docker.io"
_DOCKER_HUB_ALIASES = ("docker.io", "index.docker.io", "registry-1.docker.io")


class InvalidReference(ValueError):
    """A string is not an image reference; the message says what is wrong."""


@dataclass(frozen=True)
class ImageRef:
    """`name` as written (e.g. `nginx`, `ghcr.io/acme/api`), plus an optional tag and digest."""

    name: str
    tag: str | None = None
    digest: str | None = None

    @classmethod
    def parse(cls, text: str) -> ImageRef:
        """Parse a user-supplied `--image` value; raises `BadInput` naming `--image` on error."""
        try:
            ref = cls.parse_reference(text)
        except InvalidReference as err:
            raise BadInput(f"--image {text!r}: {err}") from err
        if ref.tag is None and ref.digest is None:
            raise BadInput(
                f"--image {text!r}: no tag or digest; give the new version, e.g. --image {text}:1.4.2"
            )
        return ref

    @classmethod
    def parse_reference(cls, text: str) -> ImageRef:
        """Parse any reference (a bare name is allowed); raises `InvalidReference`."""
        if not text or text != text.strip():
            raise InvalidReference("empty or surrounded by whitespace")
        match = _REFERENCE.fullmatch(text)
        if match is None:
            raise InvalidReference(_explain(text))
        name = match["name"]
        if len(name) > _NAME_MAX:
            raise InvalidReference(f"the name is longer than {_NAME_MAX} characters")
        return cls(name, match["tag"], match["digest"])

    @classmethod
    def try_parse(cls, text: str) -> ImageRef | None:
        """The reference in a manifest value, or None when the value is not one (templated, empty)."""
        try:
            return cls.parse_reference(text)
        except InvalidReference:
            return None

    @property
    def canonical_name(self) -> str:
        """The normalised name: `nginx` → `docker.io/library/nginx`, `acme/api` → `docker.io/acme/api`."""
        return canonical_name(self.name)

    @property
    def version(self) -> str:
        """`:tag@digest` / `:tag` / `@digest` / '' — everything after the name."""
        return (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")

    def with_version(self, tag: str | None, digest: str | None) -> ImageRef:
        """This reference (same spelling of the name) moved to a new tag and/or digest.

        A new tag drops a stale digest; a new `tag@digest` keeps a digest-only reference digest-only.
        """
        if tag and digest and self.digest and not self.tag:
            return ImageRef(self.name, None, digest)
        return ImageRef(self.name, tag, digest)

    def __str__(self) -> str:
        return self.name + self.version


def canonical_name(name: str) -> str:
    domain, _, rest = name.partition("/")
    if not rest or not _is_domain(domain):
        domain, rest = DOCKER_HUB, name
    if domain in _DOCKER_HUB_ALIASES:
        domain = DOCKER_HUB
        if "/" not in rest:
            rest = f"library/{rest}"
    return f"{domain}/{rest}"


def _is_domain(first: str) -> bool:
    """The first path component is a registry host when it looks like one (distribution's rule)."""
    return "." in first or ":" in first or first == "localhost" or first != first.lower()


def is_tag(text: str) -> bool:
    return _TAG_ONLY.fullmatch(text) is not None


def is_digest(text: str) -> bool:
    return _DIGEST_ONLY.fullmatch(text) is not None


def _explain(text: str) -> str:
    """Say which part of an invalid reference is wrong, for a one-line error."""
    rest, _, digest = text.partition("@")
    if digest and not _DIGEST_ONLY.fullmatch(digest):
        return f"invalid digest {digest!r} (expected algorithm:hex, e.g. sha256:<64 hex digits>)"
    head, _, last = rest.rpartition("/")
    name, colon, tag = last.partition(":")
    if colon and not _TAG_ONLY.fullmatch(tag):
        return f"invalid tag {tag!r} (letters, digits, '_', '.', '-'; at most 128; not starting with '.' or '-')"
    if name != name.lower() or not re.fullmatch(_COMPONENT, name or "-", re.ASCII):
        return f"invalid repository name {name!r} (lowercase letters, digits and . _ - separators)"
    return "not a valid image reference (expected [registry[:port]/]path[:tag][@digest])"
