"""Tokens for git over HTTP(S): read once from the environment, registered for masking before any
clone, and handed to git only through `GIT_ASKPASS`.

How the token travels: pre-emptively, as an `http.extraHeader` (`Authorization: Basic
base64(user:token)`) set through git's non-persistent config environment (`GIT_CONFIG_COUNT` /
`GIT_CONFIG_KEY_n` / `GIT_CONFIG_VALUE_n`), so no git operation first takes a 401 challenge (half
the HTTP round trips of a bump). As a fallback (a server that ignores the header, an SSH password)
`git_environment()` also writes a tiny askpass script (in a private scratch directory, never in the
clone) that echoes `$UPDATER_GIT_PASSWORD`; the token and the header sit only in the environment
of the git child processes. So it is never in argv (the process list), never in a
URL written to `.git/config`, and never in a message: every output path also runs through
`updater.secrets.mask`. A token embedded in the `--repo` URL (`https://user:tok@host/...`) is moved
out of the URL the same way, for every scheme: `ssh://git:PASSWORD@host/...` keeps its user name
(needed, not secret) and loses the password, which reaches ssh through `SSH_ASKPASS` (the same
script). Otherwise SSH remotes need nothing: the caller's agent / `GIT_SSH_COMMAND` pass through.
The password is registered for masking as written in the URL and percent-decoded.

Reused by pull-request mode: `resolve_credentials()` → `Credentials.token` is also the forge API token.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from updater.errors import AuthFailed
from updater.secrets import register_secret

# Checked in this order unless --token-env names one; GitLab hosts prefer GITLAB_TOKEN.
DEFAULT_TOKEN_VARS = ("GITHUB_TOKEN", "GITLAB_TOKEN")
# GitLab's CI job token authenticates git over HTTP only with this user name.
JOB_TOKEN_VAR, JOB_TOKEN_USER = "CI_JOB_TOKEN", "gitlab-ci-token"

_ASKPASS = """#!/bin/sh
# updater: answer git's credential prompts from this process's environment (never from argv).
case "$1" in
  Username*) printf '%s\\n' "$UPDATER_GIT_USERNAME" ;;
  *) printf '%s\\n' "$UPDATER_GIT_PASSWORD" ;;
esac
"""


@dataclass(frozen=True)
class Credentials:
    """What git (and a forge API) authenticates with. `token` is None for anonymous / SSH use."""

    token: str | None = field(default=None, repr=False)
    username: str = "x-access-token"  # GitHub accepts any name with a token; GitLab wants oauth2
    source: str | None = None  # where the token came from, for messages: "$GITHUB_TOKEN", "the --repo URL"
    ssh: bool = False  # a password from an ssh:// URL: ssh asks through SSH_ASKPASS, not git
    # A token that changes during a run (GitHub App installation tokens expire): asked before every
    # git command, so a long retry loop never sends an expired one. None: `token` is fixed.
    current: Callable[[], str] | None = field(default=None, repr=False, compare=False)

    def describe(self) -> str:
        return f"the token in {self.source}" if self.token else "no token"

    @property
    def job_token(self) -> bool:
        """GitLab's CI_JOB_TOKEN (known from the variable it came from, never from the token's text)."""
        return self.source == f"${JOB_TOKEN_VAR}"


def split_url_credentials(url: str) -> tuple[str, str | None, str | None]:
    """(url without the password, user, password). An SSH URL keeps its user name (`git@`), every
    other scheme loses both. scp-like SSH and local paths pass unchanged."""
    if "://" not in url:
        return url, None, None
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None, None
    register_url_secrets(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    if parts.scheme.startswith("ssh") or parts.scheme.endswith("+ssh"):
        netloc = f"{parts.username}@{netloc}" if parts.username else netloc
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return clean, user, password


def register_url_secrets(url: str) -> None:
    """Register the password of `url` (as written and decoded) for masking; call before any use."""
    if "://" in url:
        _, _, netloc = url.partition("://")
        userinfo, at, _ = netloc.partition("/")[0].rpartition("@")
        if at and ":" in userinfo:
            register_secret(userinfo.partition(":")[2])


def resolve_credentials(url: str, env: Mapping[str, str], *, token_env: str | None = None) -> tuple[str, Credentials]:
    """The clean URL to clone and the credentials to use, with every token registered as a secret.

    `token_env` (the --token-env flag) must name a set, non-empty variable (else AuthFailed, exit 6);
    without it GITHUB_TOKEN / GITLAB_TOKEN are tried, then a password embedded in the URL.
    """
    for name in (*DEFAULT_TOKEN_VARS, *([token_env] if token_env else [])):
        register_secret(env.get(name))  # mask every token we can see, used or not
    clean, user, password = split_url_credentials(url)
    ssh = clean.startswith(("ssh://", "git+ssh://", "ssh+git://"))
    host = (urlsplit(clean).hostname or "") if "://" in clean else ""
    default_user = "oauth2" if "gitlab" in host else "x-access-token"
    if token_env:
        token = env.get(token_env, "").strip()
        if not token:
            raise AuthFailed(f"--token-env {token_env}: ${token_env} is not set or empty; export the token in it")
        return clean, Credentials(token, user or (JOB_TOKEN_USER if token_env == JOB_TOKEN_VAR else default_user),
                                  f"${token_env}")
    order = ("GITLAB_TOKEN", "GITHUB_TOKEN") if "gitlab" in host else DEFAULT_TOKEN_VARS
    for name in order:
        if token := env.get(name, "").strip():
            return clean, Credentials(token, user or default_user, f"${name}")
    if password:
        return clean, Credentials(password, user or default_user, "the --repo URL", ssh=ssh)
    return clean, Credentials(None, user or default_user, None)


def basic_header(username: str, token: str) -> str:
    """The `Authorization` header value git sends pre-emptively; registered for masking."""
    value = "Basic " + base64.b64encode(f"{username}:{token}".encode()).decode()
    register_secret(value.removeprefix("Basic "))
    return value


def header_config(username: str, token: str, environ: Mapping[str, str] | None = None, *,
                  url: str | None = None) -> dict[str, str]:
    """`http.extraHeader` through git's config environment, appended after any `GIT_CONFIG_COUNT`
    entries the caller's environment already has (a CI runner may set some): never `.git/config`.
    With `url`, scoped to its scheme://host:port/ (`http.<url>.extraHeader`): a redirect to another
    host does not get the token."""
    environ = os.environ if environ is None else environ
    key = "http.extraHeader"
    if url and "://" in url:
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.netloc:
            key = f"http.{parts.scheme}://{parts.netloc.rpartition('@')[2]}/.extraHeader"
    try:
        index = max(0, int(environ.get("GIT_CONFIG_COUNT", "0")))
    except ValueError:
        index = 0
    return {"GIT_CONFIG_COUNT": str(index + 1), f"GIT_CONFIG_KEY_{index}": key,
            f"GIT_CONFIG_VALUE_{index}": f"Authorization: {basic_header(username, token)}"}


def git_environment(credentials: Credentials, scratch: Path, *, url: str | None = None) -> dict[str, str]:
    """Environment entries for every git child process: no interactive prompt, the pre-emptive
    Authorization header (HTTP remotes), and the askpass script (written under `scratch`, a private
    directory) when there is a token."""
    env = {"GIT_TERMINAL_PROMPT": "0"}
    if not credentials.token:
        return env
    scratch.mkdir(parents=True, exist_ok=True, mode=0o700)
    script = scratch / "askpass.sh"
    script.write_text(_ASKPASS)
    os.chmod(script, 0o700)
    if credentials.ssh:
        env.update({"SSH_ASKPASS": str(script), "SSH_ASKPASS_REQUIRE": "force"})
    else:  # git sends http.* config only over HTTP(S); file:// and scp-like remotes ignore it
        env.update(header_config(credentials.username, credentials.token, url=url))
    env.update({
        "GIT_ASKPASS": str(script),
        "UPDATER_GIT_USERNAME": credentials.username,
        "UPDATER_GIT_PASSWORD": credentials.token,
    })
    return env
