"""The registry's one HTTP edge: requests, bounded bodies, auth challenges, retries, redirects.

Every registry call goes through `RegistryHttp.request`, so the rules no caller can forget live here:
  - bodies are read up to a limit the caller names (the registry is untrusted), and the timeout
    applies to every request;
  - credentials go only to the registry host that asked for them (Basic), or to the token realm
    that registry named in its challenge (to get a Bearer token); a redirect to another host (a
    blob CDN) is followed without them; https is never downgraded to http;
  - 429 waits `Retry-After` (bounded), connection errors and 5xx are retried a bounded number of
    times, each attempt logged with its number and wait; then a named error.
Tokens are registered with `updater.secrets` the moment they arrive and never logged.
"""

from __future__ import annotations

import base64
import email.utils
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlencode, urljoin, urlsplit

import requests

from updater.registry.challenge import Challenge, parse_challenge
from updater.registry.credentials import Credentials, Login
from updater.registry.errors import (
    RegistryAuthFailed,
    RegistryNotFound,
    RegistryRateLimited,
    RegistryResponseInvalid,
    RegistryUnavailable,
)
from updater.registry.names import Repository
from updater.secrets import register_secret

log = logging.getLogger("updater.registry")

TOKEN_LIMIT = 1 << 20  # token responses are a few KB (GHCR's JWTs included)


@dataclass(frozen=True)
class HttpSettings:
    timeout: float = 15.0  # per request (connect and each read); slower than this is down for a CI job
    attempts: int = 3  # connection errors and 5xx: a blip is retried, an outage fails in seconds
    wait: float = 0.5  # first backoff step, doubled each retry
    max_retry_after: float = 60.0  # a 429 asking for longer fails now rather than hang a pipeline
    rate_limit_attempts: int = 4  # 429s waited out at most this many times per request
    max_redirects: int = 3  # registries redirect blobs once, to storage


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]  # lowercase names
    body: bytes
    url: str  # the URL that answered (after redirects)


class RegistryHttp:
    """One session for a watch run: tokens and each host's auth scheme are remembered across calls."""

    def __init__(self, credentials: Credentials, settings: HttpSettings = HttpSettings(), *,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.credentials = credentials
        self.settings = settings
        self.calls = 0  # HTTP requests sent, token requests included: the benchmark reads it
        self._sleep = sleep
        self._session = requests.Session()
        self._session.headers["User-Agent"] = "updater-watch"
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}  # (host, scope) -> token, expiry
        self._basic: set[str] = set()  # hosts that asked for Basic: send it up front next time

    def close(self) -> None:
        self._session.close()

    def request(self, repo: Repository, url: str, *, limit: int, method: str = "GET",
                accept: str | None = None) -> Reply:
        """`method url` on `repo`'s registry, authenticated as it asks; raises a named error unless 2xx."""
        scope = f"repository:{repo.path}:pull"
        headers = {"Accept": accept} if accept else {}
        reply = self._send(repo, method, url, headers, self._auth_for(repo, scope), limit)
        if reply.status == 401:
            challenge = parse_challenge(reply.headers.get("www-authenticate"))
            auth = self._answer(repo, challenge, scope)
            reply = self._send(repo, method, url, headers, auth, limit)
        if reply.status in (401, 403):
            raise RegistryAuthFailed(self._auth_message(repo, reply.status))
        if reply.status == 404:
            raise RegistryNotFound(f"{repo}: {urlsplit(url).path} not found (HTTP 404); check the image name")
        if not 200 <= reply.status < 300:
            raise RegistryResponseInvalid(f"{repo}: {method} {urlsplit(url).path} answered HTTP {reply.status}")
        return reply

    def _auth_for(self, repo: Repository, scope: str) -> str | None:
        token = self._tokens.get((repo.host, scope))
        if token and token[1] > time.monotonic():
            return f"Bearer {token[0]}"
        login = self.credentials.for_host(repo.host)
        if repo.host in self._basic and login:
            return _basic(login)
        return None

    def _answer(self, repo: Repository, challenge: Challenge | None, scope: str) -> str:
        login = self.credentials.for_host(repo.host)
        if challenge is not None and challenge.scheme == "basic" and login:
            self._basic.add(repo.host)
            return _basic(login)
        if challenge is not None and challenge.scheme == "bearer" and challenge.realm:
            scope = challenge.params.get("scope", scope)
            token = self._fetch_token(repo, challenge, scope, login)
            return f"Bearer {token}"
        raise RegistryAuthFailed(self._auth_message(repo, 401))

    def _fetch_token(self, repo: Repository, challenge: Challenge, scope: str, login: Login | None) -> str:
        realm = challenge.realm or ""
        parts = urlsplit(realm)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise RegistryResponseInvalid(f"{repo}: token realm {realm!r} is not an http(s) URL")
        if parts.scheme == "http" and repo.scheme == "https":
            raise RegistryResponseInvalid(f"{repo}: refusing a plain-http token realm ({parts.netloc}) "
                                          "for an https registry")
        query = {key: value for key, value in (("service", challenge.params.get("service")), ("scope", scope)) if value}
        url = realm + ("&" if parts.query else "?") + urlencode(query)
        token_repo = Repository(repo.name, parts.netloc, repo.path, parts.scheme)
        # The realm is where this registry sends its users' passwords; it gets them, no other host.
        reply = self._send(token_repo, "GET", url, {"Accept": "application/json"},
                           _basic(login) if login else None, TOKEN_LIMIT)
        if reply.status in (401, 403):
            raise RegistryAuthFailed(f"{repo}: the token service {parts.netloc} refused "
                                     f"{'the login from ' + login.source if login else 'anonymous access'} "
                                     f"(HTTP {reply.status}); check the credentials")
        if reply.status != 200:
            raise RegistryUnavailable(f"{repo}: the token service {parts.netloc} answered HTTP {reply.status}")
        token, expires = _parse_token(reply.body, repo)
        register_secret(token)
        self._tokens[(repo.host, scope)] = (token, time.monotonic() + max(expires - 10, 1))
        return token

    def _auth_message(self, repo: Repository, status: int) -> str:
        login = self.credentials.for_host(repo.host)
        if login:
            return (f"{repo}: the registry refused the login for {repo.host} from {login.source} "
                    f"(HTTP {status}); check it can pull this repository")
        looked = ", ".join(self.credentials.sources) or "no auth file"
        return (f"{repo}: the registry needs a login (HTTP {status}) and none was found for {repo.host} "
                f"(looked at: {looked}); run `docker login {repo.host}` or set DOCKER_AUTH_CONFIG")

    def _send(self, repo: Repository, method: str, url: str, headers: Mapping[str, str],
              auth: str | None, limit: int) -> Reply:
        """One logical request: redirects followed (auth kept only on the registry host), retries."""
        origin = urlsplit(url)
        for _ in range(self.settings.max_redirects + 1):
            sent = dict(headers)
            if auth and urlsplit(url).netloc == origin.netloc:
                sent["Authorization"] = auth
            reply = self._retrying(repo, method, url, sent, limit)
            if reply.status not in (301, 302, 303, 307, 308):
                return reply
            target = urljoin(url, reply.headers.get("location", ""))
            scheme = urlsplit(target).scheme
            if scheme not in ("http", "https") or (origin.scheme == "https" and scheme == "http"):
                raise RegistryResponseInvalid(f"{repo}: refusing a redirect to {scheme or 'no'} scheme")
            url = target
        raise RegistryResponseInvalid(f"{repo}: more than {self.settings.max_redirects} redirects")

    def _retrying(self, repo: Repository, method: str, url: str, headers: dict[str, str], limit: int) -> Reply:
        settings, failures, limited = self.settings, 0, 0
        while True:
            try:
                reply = self._once(method, url, headers, limit, repo)
            except requests.RequestException as err:
                failures += 1
                if failures >= settings.attempts:
                    raise RegistryUnavailable(f"{repo}: cannot reach {urlsplit(url).netloc} after {failures} "
                                              f"attempt(s): {_reason(err)}") from err
                reason = _reason(err)
            else:
                if reply.status == 429:
                    limited += 1
                    wait = _retry_after(reply.headers.get("retry-after"), settings.wait * 2 ** limited)
                    if limited >= settings.rate_limit_attempts or wait > settings.max_retry_after:
                        raise RegistryRateLimited(f"{repo}: rate limited by {urlsplit(url).netloc} (HTTP 429, "
                                                  f"Retry-After {wait:.0f}s, {limited} time(s)); try again later")
                    log.info("registry %s: rate limited (attempt %d); waiting %.1fs", repo.host, limited, wait)
                    self._sleep(wait)
                    continue
                if reply.status < 500:
                    return reply
                failures += 1
                if failures >= settings.attempts:
                    raise RegistryUnavailable(f"{repo}: {urlsplit(url).netloc} answered HTTP {reply.status} "
                                              f"{failures} time(s); try again later")
                reason = f"HTTP {reply.status}"
            wait = settings.wait * 2 ** (failures - 1)
            log.info("registry %s: %s (attempt %d of %d); retrying in %.1fs",
                     repo.host, reason, failures, settings.attempts, wait)
            self._sleep(wait)

    def _once(self, method: str, url: str, headers: dict[str, str], limit: int, repo: Repository) -> Reply:
        self.calls += 1
        with self._session.request(method, url, headers=headers, timeout=self.settings.timeout,
                                   allow_redirects=False, stream=True) as response:
            lowered = {key.lower(): value for key, value in response.headers.items()}
            # Only a success's body is used; an error's is not worth reading from an untrusted peer.
            ok = 200 <= response.status_code < 300 and method != "HEAD"
            body = _read_bounded(response, limit, repo, url) if ok else b""
            return Reply(response.status_code, lowered, body, url)


def _read_bounded(response: requests.Response, limit: int, repo: Repository, url: str) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise RegistryResponseInvalid(f"{repo}: {urlsplit(url).path} is {declared} bytes, over the {limit}-byte limit")
    chunks, size = [], 0
    for chunk in response.iter_content(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise RegistryResponseInvalid(f"{repo}: {urlsplit(url).path} is over the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def _parse_token(body: bytes, repo: Repository) -> tuple[str, float]:
    import json

    try:
        data = json.loads(body)
        token = data.get("token") or data.get("access_token")
        expires = float(data.get("expires_in") or 60)  # the spec's default lifetime
    except (ValueError, AttributeError, TypeError) as err:
        raise RegistryResponseInvalid(f"{repo}: the token service answered something that is not a token") from err
    if not isinstance(token, str) or not token:
        raise RegistryResponseInvalid(f"{repo}: the token service answered no token")
    return token, expires


def _retry_after(value: str | None, default: float) -> float:
    if not value:
        return default
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())


def _basic(login: Login) -> str:
    return "Basic " + base64.b64encode(f"{login.username}:{login.password}".encode()).decode()


def _reason(err: requests.RequestException) -> str:
    """A short reason (the exception text can be pages of urllib3 detail)."""
    if isinstance(err, requests.Timeout):
        return "timed out"
    if isinstance(err, requests.ConnectionError):
        return "connection failed (is the registry running and the host right?)"
    return type(err).__name__
