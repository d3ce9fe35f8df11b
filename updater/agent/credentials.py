"""Credentials in a repository URL, for the agent: split them off before the URL is used.

`--repo http://bot:TOKEN@host/x.git` must never put the token in git's argv, its error output, the
inventory or an Event. The split itself is `updater.git.credentials.split_url_credentials` (the one
bump uses; it registers the password, and `register_secret` masks every form of it); this adds the
agent's two rules: `https://TOKEN@host` carries the token as the user part (masked too), and an ssh
password is dropped with a warning (the agent sends credentials only as an HTTP header).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from updater.git.credentials import split_url_credentials
from updater.secrets import register_secret

log = logging.getLogger("updater.agent")


@dataclass(frozen=True)
class RepoURL:
    url: str  # without credentials: the only form git, logs and reports ever see
    user: str | None = None
    password: str | None = field(default=None, repr=False)


def split_url(url: str) -> RepoURL:
    """`url` without `user:password@`, and the two apart (percent-decoded). scp-like `git@host:path`
    has no credential and stays as is."""
    clean, user, password = split_url_credentials(url)
    if not clean.lower().startswith(("http://", "https://")):
        if password is not None:
            scheme = clean.partition("://")[0]
            log.warning("the password in the %s URL is not used: %s authenticates with keys", scheme, scheme)
        return RepoURL(clean, user)
    if password is None:  # `https://TOKEN@host`: the user part is the token
        register_secret(user)
    return RepoURL(clean, user, password)
