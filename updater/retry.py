"""The one retry module: a settings type (`RetrySettings`), named policies built from it, and one
loop (`call_with_retries`) that logs every retry the same way — `attempt 2/8 in 0.41s (<what>): <why>`.

Policies (chosen by what is retried):
- `retry_transient`: landing a bump — every error marked `transient` (push races, 5xx, dropped
  connections, timeouts). The backoff step is the larger of `wait_base` and the duration of the
  attempt that just failed: one round of a race takes that long (fetch, re-apply, push), so
  retrying sooner only collides again, and on a slow remote the waits grow with it.
- `retry_on_race`: only `PushRejected` (for callers that handle network errors themselves).
- `retry_api`: one forge API call — transient errors, honouring the forge's own hint
  (`Retry-After`, `x-ratelimit-reset`: an error's `retry_after`) when it gives one.

All use exponential backoff with *full jitter* (a uniform wait between 0 and step·2ⁿ, capped at
`wait_max`): racing pipelines spread out instead of colliding again in step. They stop at whichever
comes first, the attempt count or the total time (no wait starts that would overrun it). When the
budget runs out the last error is re-raised as a permanent `RemoteError` (exit 7) naming the
attempts and time spent; permanent errors pass through at once. tenacity enters here only.

    value = call_with_retries(lambda attempt: do(attempt), retry_transient(settings), what="push to main")
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import RetryCallState, RetryError, Retrying, retry_if_exception, stop_after_attempt, stop_before_delay

from updater.errors import PushRejected, RemoteError, UpdaterError

log = logging.getLogger("updater.retry")
T = TypeVar("T")
_MARGIN = 0.05  # a wait ending this close to the time budget still gets its last attempt
_MIN_WAIT = 0.5  # under a forge's minimum wait, less than this left of the budget is not worth a try


@dataclass(frozen=True)
class RetrySettings:
    """Bounds of one retry loop. The defaults are the CLI's (`--retries`, `--retry-*`; see the
    options table for their reasons)."""

    attempts: int = 20  # a race means another pipeline landed (progress): the count only guards a loop
    timeout: float = 300.0  # the real bound: a CI step should fail within minutes, not hang
    wait_base: float = 0.25  # smallest backoff step
    wait_max: float = 15.0  # no single wait longer than this, however many attempts
    limits: str = ""  # how the user sets these bounds, for the give-up message (e.g. "--retries 20")

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.timeout <= 0 or self.wait_base < 0 or self.wait_max < self.wait_base:
            raise ValueError(f"invalid retry settings {self}")


# The forge API's bounds: a 502 burst or a secondary rate limit clears in a few tries; more hides
# an outage. (Capped by the CLI's --retries / --retry-timeout when those are lower.)
API_RETRY = RetrySettings(attempts=6, timeout=120.0, wait_base=0.5, wait_max=30.0)


@dataclass(frozen=True)
class Policy:
    name: str
    settings: RetrySettings
    retry_on: Callable[[BaseException], bool]
    paced_by_attempt: bool = False  # the step is at least the failed attempt's duration
    honour_hint: bool = False  # an error's `retry_after` (seconds) replaces the jittered wait


def _transient(error: BaseException) -> bool:
    return isinstance(error, UpdaterError) and error.transient


def retry_transient(settings: RetrySettings) -> Policy:
    return Policy("retry_transient", settings, _transient, paced_by_attempt=True)


def retry_on_race(settings: RetrySettings) -> Policy:
    return Policy("retry_on_race", settings, lambda e: isinstance(e, PushRejected), paced_by_attempt=True)


def retry_api(settings: RetrySettings = API_RETRY) -> Policy:
    return Policy("retry_api", settings, _transient, honour_hint=True)


def call_with_retries(fn: Callable[[int], T], policy: Policy, *, what: str,
                      sleep: Callable[[float], None] = time.sleep) -> T:
    """Call `fn(attempt_number)` (1-based) until it returns, retrying the errors `policy` names."""
    bounds = policy.settings
    started = time.monotonic()
    last_round = [0.0]  # seconds the latest attempt took

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        hint = getattr(error, "retry_after", None) if policy.honour_hint else None
        if hint is not None and getattr(error, "at_least", False):
            # A minimum the forge demands (GitHub's secondary limit): wait it in full, or as much of
            # it as the time budget leaves (the give-up message then says so).
            left = bounds.timeout - (time.monotonic() - started) - _MARGIN
            # Too little left to wait for anything: the full hint overruns the budget, so the loop stops.
            return float(hint if left < min(hint, _MIN_WAIT) else min(hint, left))
        if hint is not None:
            return float(min(max(hint, 0.0), bounds.wait_max))
        step = max(bounds.wait_base, last_round[0]) if policy.paced_by_attempt else bounds.wait_base
        return random.uniform(0, min(bounds.wait_max, step * 2 ** (state.attempt_number - 1)))

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        pause = state.next_action.sleep if state.next_action else 0.0
        log.warning("attempt %d/%d in %.2fs (%s): %s", state.attempt_number + 1, bounds.attempts, pause, what, error)

    retrying = Retrying(
        stop=stop_after_attempt(bounds.attempts) | stop_before_delay(bounds.timeout),
        wait=wait,
        retry=retry_if_exception(policy.retry_on),
        before_sleep=before_sleep,
        sleep=sleep,
    )
    try:
        for attempt in retrying:
            round_started = time.monotonic()
            with attempt:
                try:
                    value = fn(attempt.retry_state.attempt_number)
                finally:
                    last_round[0] = time.monotonic() - round_started
            if not attempt.retry_state.outcome or not attempt.retry_state.outcome.failed:
                return value
    except RetryError as exhausted:
        last = exhausted.last_attempt
        error = last.exception()
        spent = time.monotonic() - started
        limits = f" ({bounds.limits})" if bounds.limits else ""
        if policy.honour_hint and getattr(error, "at_least", False):
            limits += (f"; the forge demands at least {getattr(error, 'retry_after', 0):.0f} s between tries and the "
                       f"retry budget is {bounds.timeout:.0f} s: raise --retry-timeout or run again later")
        raise RemoteError(f"{what} still failing after {last.attempt_number} attempt(s) in {spent:.1f}s"
                          f"{limits}: {error}") from error
    raise AssertionError("unreachable: tenacity stops by returning or raising")
