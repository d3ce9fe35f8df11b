"""Kubernetes naming rules for every segment the agent puts into an API path. Pure.

Names, namespaces and API versions come from the manifest repository (untrusted): a name such as
`x/../../../kube-system/secrets/y` would otherwise become another URL. `KubeClient` checks every
segment here before building a path, so no caller can forget; the plan checks the same rules up
front so a bad object stops its app before anything is sent.

The rules are the API server's own (apimachinery `validation`): a namespace is a DNS-1123 label;
most names are DNS-1123 subdomains; a few kinds (RBAC, whose names carry `:`) only need to be a
valid path segment; plurals and versions are DNS-1123 labels, groups DNS-1123 subdomains.
"""

from __future__ import annotations

import re
from urllib.parse import quote

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f]")
LABEL_MAX = 63
SUBDOMAIN_MAX = 253

# kinds whose names the API server checks only as path segments (e.g. `system:controller:x`)
PATH_SEGMENT_KINDS = frozenset({"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"})
# kinds whose names must be DNS-1123 labels (they become DNS names or label values)
LABEL_KINDS = frozenset({"Namespace", "Service"})


class InvalidName(ValueError):
    """A segment breaks the naming rules; the message says which and what is allowed."""


def check_label(value: object, *, what: str) -> str:
    if not isinstance(value, str) or len(value) > LABEL_MAX or not _LABEL.match(value):
        raise InvalidName(f"{what} {value!r} is not a valid DNS-1123 label (lowercase letters, digits "
                          f"and '-', starting and ending with a letter or digit, at most {LABEL_MAX})")
    return value


def check_subdomain(value: object, *, what: str) -> str:
    if not isinstance(value, str) or len(value) > SUBDOMAIN_MAX or not _SUBDOMAIN.match(value):
        raise InvalidName(f"{what} {value!r} is not a valid DNS-1123 subdomain (lowercase letters, "
                          f"digits, '-' and '.', at most {SUBDOMAIN_MAX})")
    return value


def check_path_segment(value: object, *, what: str) -> str:
    if (not isinstance(value, str) or not value or value in (".", "..") or "/" in value or "%" in value
            or _CONTROL.search(value) or len(value) > SUBDOMAIN_MAX):
        raise InvalidName(f"{what} {value!r} cannot be a path segment (no '/', '%', '.' or '..', "
                          f"no spaces or control characters, at most {SUBDOMAIN_MAX})")
    return value


def check_name(kind: str, name: object) -> str:
    """`name` as the API server would accept it for `kind`; raises `InvalidName`."""
    check_path_segment(name, what=f"{kind} name")
    if kind in PATH_SEGMENT_KINDS:
        return str(name)
    if kind in LABEL_KINDS:
        return check_label(name, what=f"{kind} name")
    return check_subdomain(name, what=f"{kind} name")


def check_api_version(api_version: object) -> str:
    """`v1` or `<group>/<version>`; raises `InvalidName`."""
    if not isinstance(api_version, str):
        raise InvalidName(f"apiVersion {api_version!r} must be a string")
    group, slash, version = api_version.rpartition("/")
    if slash:
        check_subdomain(group, what="API group")
    check_label(version, what="API version")
    return api_version


def segment(value: str) -> str:
    """`value`, already checked, quoted for a URL path (`:` stays: RFC 3986 allows it in a segment)."""
    return quote(value, safe=":")
