"""Credentials in a repository URL: split them off before the URL is used, and mask every form.

`--repo http://bot:TOKEN@host/x.git` must never put the token in git's argv, its error output, the
inventory or an Event: `split_url` returns the URL without userinfo and the user and password
apart (percent-decoded), and registers every form the secret can take in output (as written,
decoded, stripped, each line) for masking. The source then sends them as an HTTP header. Pure
apart from that registration.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit, urlunsplit

from updater.secrets import register_secret

log = logging.getLogger("updater.agent")


@dataclass(frozen=True)
class RepoURL:
    url: str  # without credentials: the only form git, logs and reports ever see
    user: str | None = None
    password: str | None = field(default=None, repr=False)


def register_forms(secret: str | None) -> None:
    """Mask `secret` as given, percent-decoded, stripped, and each of its lines."""
    if not secret:
        return
    decoded = unquote(secret)
    for form in {secret, decoded, secret.strip(), decoded.strip()}:
        register_secret(form)
        for line in form.splitlines():
            register_secret(line.strip())


def split_url(url: str) -> RepoURL:
    """`url` without `user:password@`, and the two apart. scp-like `git@host:path` has no credential
    and stays as is; an ssh password is dropped (ssh authenticates with keys)."""
    if "://" not in url:
        return RepoURL(url)
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return RepoURL(url)
    userinfo, _, host = parts.netloc.rpartition("@")
    raw_user, colon, raw_password = userinfo.partition(":")
    register_forms(raw_password if colon else None)
    user, password = unquote(raw_user) or None, (unquote(raw_password) if colon else None)
    if parts.scheme.lower() in ("http", "https"):
        if password is None:  # `https://TOKEN@host`: the user part is the token
            register_forms(raw_user)
        clean = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
        return RepoURL(clean, user, password)
    if password is not None:
        log.warning("the password in the %s URL is not used: %s authenticates with keys", parts.scheme,
                    parts.scheme)
    netloc = f"{raw_user}@{host}" if raw_user else host
    return RepoURL(urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)), user)
