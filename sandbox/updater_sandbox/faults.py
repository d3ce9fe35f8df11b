"""Injected faults for the forge: what to break, for which requests, how many times.

A `Fault` is data; `updater_sandbox.forge` consumes one matching fault per request and acts it out
(answer an error, wait, or drop the connection). The bodies and headers are the services' own:
GitHub's primary and secondary rate-limit messages, GitLab's Rack::Attack 429 with RateLimit-*.
"""

from __future__ import annotations

from dataclasses import dataclass

GITHUB_SECONDARY = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000."
)
GITHUB_SECONDARY_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
GITHUB_PRIMARY = "API rate limit exceeded for user ID 1. (But here's the good news: Authenticated requests get a higher rate limit.)"


@dataclass
class Fault:
    """kind: status (answer `status`), rate_limit, secondary_rate_limit, slow (sleep `seconds`, then
    serve normally) or drop (close the connection without an answer).

    `service` narrows it to github | graphql | gitlab | git (any: every request); `path_contains`
    and `method` narrow further. `times` counts down per matching request.
    """

    kind: str
    service: str = "any"
    status: int = 502
    seconds: float = 0.0
    retry_after: int | None = 1  # None: no Retry-After header (GitHub's secondary limits often send none)
    path_contains: str = ""
    method: str = ""
    times: int = 1

    def matches(self, service: str, method: str, path: str) -> bool:
        return (self.service in ("any", service) and (not self.method or self.method == method)
                and self.path_contains in path)


def http_status(status: int = 502, **where: object) -> Fault:
    return Fault("status", status=status, **where)  # type: ignore[arg-type]


def rate_limit(retry_after: int | None = 1, **where: object) -> Fault:
    return Fault("rate_limit", retry_after=retry_after, **where)  # type: ignore[arg-type]


def secondary_rate_limit(retry_after: int | None = 1, **where: object) -> Fault:
    return Fault("secondary_rate_limit", retry_after=retry_after, **where)  # type: ignore[arg-type]


def slow(seconds: float, **where: object) -> Fault:
    return Fault("slow", seconds=seconds, **where)  # type: ignore[arg-type]


def drop(**where: object) -> Fault:
    return Fault("drop", **where)  # type: ignore[arg-type]


def rate_limit_answer(fault: Fault, service: str, reset_epoch: int) -> tuple[int, dict[str, str], object]:
    """(status, headers, body) of a rate-limited answer as `service` sends it."""
    retry = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
    if service == "gitlab":
        headers = {**retry, "RateLimit-Limit": "600", "RateLimit-Remaining": "0",
                   "RateLimit-Reset": str(reset_epoch), "RateLimit-Observed": "601",
                   "RateLimit-Name": "throttle_authenticated_api", "Content-Type": "text/plain"}
        return 429, headers, b"Retry later\n"
    if fault.kind == "secondary_rate_limit":
        return 403, retry, {"message": GITHUB_SECONDARY,
                                                             "documentation_url": GITHUB_SECONDARY_DOCS}
    headers = {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Used": "5000",
               "X-RateLimit-Reset": str(reset_epoch), "X-RateLimit-Resource": "core", **retry}
    return 403, headers, {"message": GITHUB_PRIMARY,
                          "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}
