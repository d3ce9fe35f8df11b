"""The policy's shape: rules with their allow-list escapes, and the violations they produce. Pure data."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

# Rule names, as they appear in the config, in messages, Events and commit statuses.
ALLOWED_REGISTRIES = "allowed-registries"
NO_MUTABLE_TAGS = "no-mutable-tags"
DIGEST_REQUIRED = "digest-required"
TAG_PATTERN = "tag-pattern"
NO_PRIVILEGED = "no-privileged"
NO_HOST_PATH = "no-host-path"
NO_HOST_NETWORK = "no-host-network"
MAJOR_NEEDS = "major-needs"  # bump time only: the agent sees one version, never a jump
RULES = (ALLOWED_REGISTRIES, NO_MUTABLE_TAGS, DIGEST_REQUIRED, TAG_PATTERN, NO_PRIVILEGED, NO_HOST_PATH,
         NO_HOST_NETWORK, MAJOR_NEEDS)


def glob_match(value: str, patterns: tuple[str, ...]) -> bool:
    """`*`/`?`/`[...]` globs, case-sensitive (namespaces and image names are lowercase by rule)."""
    return any(fnmatch.fnmatchcase(value, pattern) for pattern in patterns)


@dataclass(frozen=True)
class RegistryRule:
    """Images must come from one of `registries` (a registry host, or a host/path prefix such as
    `ghcr.io/acme`; globs allowed) — in `namespaces` only, when given (globs), else everywhere.
    An image passes when any applicable rule allows it; where rules name the namespace, they replace
    the namespace-less ones (so `production` can be stricter than everywhere else)."""

    registries: tuple[str, ...]
    namespaces: tuple[str, ...] = ()

    def applies_to(self, namespace: str | None) -> bool:
        return not self.namespaces or (namespace is not None and glob_match(namespace, self.namespaces))

    def allows(self, canonical_name: str) -> bool:
        return any(canonical_name == entry or canonical_name.startswith(entry.rstrip("/") + "/")
                   or fnmatch.fnmatchcase(canonical_name, entry) for entry in self.registries)


@dataclass(frozen=True)
class Exemption:
    """An escape from one rule (or `*` for all) for the objects (`namespace/Kind/name` globs) or the
    images (canonical-name globs) it lists. Only the policy's author grants these; nothing in a
    manifest (no annotation, no label) can exempt itself."""

    rule: str
    objects: tuple[str, ...] = ()
    images: tuple[str, ...] = ()

    def covers(self, rule: str, *, subject: str | None = None, image: str | None = None) -> bool:
        if self.rule not in ("*", rule):
            return False
        return bool((subject is not None and glob_match(subject, self.objects))
                    or (image is not None and glob_match(image, self.images)))


@dataclass(frozen=True)
class MajorNeeds:
    """A major version jump (1.x -> 2.x) needs this label and/or reviewer on the pull request."""

    label: str | None = None
    reviewer: str | None = None


@dataclass(frozen=True)
class Policy:
    """Every rule is off until the policy turns it on (an empty policy allows everything)."""

    allowed_registries: tuple[RegistryRule, ...] = ()
    forbid_mutable_tags: bool = False
    # Tags that name a moving target. An untagged, undigested reference means `latest` and counts too.
    mutable_tags: tuple[str, ...] = ("latest",)
    digest_required_in: tuple[str, ...] = ()  # namespace globs where every image must carry @sha256:...
    tag_patterns: tuple[str, ...] = ()  # when given, a tag must match one of these globs (e.g. `v*.*.*`)
    forbid_privileged: bool = False
    forbid_host_path: bool = False
    forbid_host_network: bool = False
    exemptions: tuple[Exemption, ...] = ()
    major_needs: MajorNeeds | None = None  # None: a major jump is a bump like any other

    @property
    def empty(self) -> bool:
        return self == Policy(mutable_tags=self.mutable_tags, exemptions=self.exemptions)

    def exempt(self, rule: str, *, subject: str | None = None, image: str | None = None) -> bool:
        return any(e.covers(rule, subject=subject, image=image) for e in self.exemptions)


@dataclass(frozen=True)
class Violation:
    """One broken rule: which, where (`Deployment shop/api, container api`) and why, as one line."""

    rule: str
    subject: str
    detail: str

    def __str__(self) -> str:
        return f"{self.subject}: {self.detail} (policy rule {self.rule})"
