"""The one retry policy for forge API calls (`retry_provider`), and the settings that bound it.

The clients' own retries are switched off (PyGithub `retry=None`, python-gitlab without
`obey_rate_limit`/`retry_transient_errors`) so that every retry is this one: named, logged with
its number and wait, bounded by attempts and total time, and honouring the forge's own hint
(`Retry-After`, `x-ratelimit-reset`) when it gives one. Only errors marked `transient` retry.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, stop_after_delay

from updater.errors import RemoteError, UpdaterError

log = logging.getLogger("updater.forges")
T = TypeVar("T")


@dataclass(frozen=True)
class ProviderSettings:
    attempts: int = 6  # a 502 burst or a secondary limit clears in a few tries; more hides an outage
    timeout: float = 120.0  # total seconds one API call may spend retrying
    base_wait: float = 0.5  # first backoff step (full jitter), doubled per attempt
    max_wait: float = 30.0  # one wait never exceeds this, whatever the forge hints
    request_timeout: float = 30.0  # per HTTP request; a hung connection counts as transient
    poll_attempts: int = 10  # mergeability "still computing": re-read this many times at most
    poll_wait: float = 0.25  # first wait between mergeability reads (grows 1.5x, capped at 3 s)


def wait_for(settings: ProviderSettings) -> Callable[[RetryCallState], float]:
    """Full-jitter exponential backoff, or the forge's own hint when it sent one (never above max_wait)."""

    def _wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        hint = getattr(error, "retry_after", None)
        if hint is not None:
            return float(min(max(hint, 0.0), settings.max_wait))
        ceiling = min(settings.max_wait, settings.base_wait * 2 ** (state.attempt_number - 1))
        return random.uniform(0, ceiling)

    return _wait


def retry_provider(settings: ProviderSettings, what: str, call: Callable[[], T]) -> T:
    """Run `call` (one API operation named `what`), retrying transient `UpdaterError`s."""

    def _log(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning("%s failed (%s); attempt %d/%d in %.1fs", what, error, state.attempt_number + 1,
                    settings.attempts, wait)

    retrying = Retrying(
        stop=stop_after_attempt(settings.attempts) | stop_after_delay(settings.timeout),
        wait=wait_for(settings),
        retry=retry_if_exception(lambda e: isinstance(e, UpdaterError) and e.transient),
        before_sleep=_log,
        reraise=True,
    )
    try:
        return retrying(call)
    except UpdaterError as err:
        if err.transient:
            raise RemoteError(f"{what} still failing after {settings.attempts} attempts: {err}") from err
        raise


def poll(settings: ProviderSettings, read: Callable[[], T | None]) -> T | None:
    """Call `read` until it returns a value or the polling bound runs out (then None)."""
    wait = settings.poll_wait
    for attempt in range(settings.poll_attempts):
        value = read()
        if value is not None:
            return value
        if attempt + 1 < settings.poll_attempts:
            time.sleep(wait)
            wait = min(wait * 1.5, 3.0)
    return None
