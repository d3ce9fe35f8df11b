"""Named retry policies for landing a bump, built from the `--retries` / `--retry-*` settings.

`retry_transient` retries every error marked `transient` (push races, 5xx, dropped connections,
timeouts); `retry_on_race` retries only `PushRejected` (for callers that handle network errors
themselves). Both use tenacity with exponential backoff and *full jitter* (a uniform wait between 0
and step·2ⁿ, capped): racing pipelines that collide spread out instead of colliding again in step.
The step is the larger of `wait_base` and the duration of the attempt that just failed: one round
of a race takes that long (fetch, re-apply, push), so retrying sooner only collides again, and on a
slow or overloaded remote the waits grow with it instead of piling more work onto it.
They stop at whichever comes first, the attempt count or the total time, and log every retry as
`attempt 2/8 in 0.41s: <why>`. When the budget runs out the last error is re-raised as a permanent
`RemoteError` (exit 7) naming the attempts and time spent; permanent errors pass through at once.

    value = call_with_retries(lambda attempt: do(attempt), retry_transient(policy), what="push to main")
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
)

from updater.errors import PushRejected, RemoteError, UpdaterError

log = logging.getLogger("updater.landing")
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds of one retry loop; the defaults are the CLI's (see README "Usage: push mode")."""

    attempts: int = 20  # a race means another pipeline landed (progress); 32 racers needed up to 10 tries
    # on an overloaded 2-core box, so the count is a guard against a loop and `timeout` the real bound
    timeout: float = 300.0  # a CI step should fail within minutes, not hang on a dead remote
    wait_base: float = 0.25  # smallest step; the step is at least the failed attempt's duration
    wait_max: float = 15.0  # no single wait longer than this, however many attempts

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.timeout <= 0 or self.wait_base < 0 or self.wait_max < self.wait_base:
            raise ValueError(f"invalid retry policy {self}")


@dataclass(frozen=True)
class NamedRetry:
    name: str
    policy: RetryPolicy
    retry_on: Callable[[BaseException], bool]


def retry_transient(policy: RetryPolicy) -> NamedRetry:
    return NamedRetry("retry_transient", policy, lambda e: isinstance(e, UpdaterError) and e.transient)


def retry_on_race(policy: RetryPolicy) -> NamedRetry:
    return NamedRetry("retry_on_race", policy, lambda e: isinstance(e, PushRejected))


def call_with_retries(fn: Callable[[int], T], retry: NamedRetry, *, what: str,
                      sleep: Callable[[float], None] = time.sleep) -> T:
    """Call `fn(attempt_number)` (1-based) until it returns, retrying the errors `retry` names."""
    policy = retry.policy
    started = time.monotonic()
    last_round = [0.0]  # seconds the latest attempt took

    def full_jitter(state: RetryCallState) -> float:
        step = max(policy.wait_base, last_round[0])
        return random.uniform(0, min(policy.wait_max, step * 2 ** (state.attempt_number - 1)))

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning("attempt %d/%d in %.2fs: %s", state.attempt_number + 1, policy.attempts, wait, error)

    retrying = Retrying(
        stop=stop_after_attempt(policy.attempts) | stop_before_delay(policy.timeout),
        wait=full_jitter,
        retry=retry_if_exception(retry.retry_on),
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
        raise RemoteError(f"{what} still failing after {last.attempt_number} attempt(s) in {spent:.1f}s "
                          f"(--retries {policy.attempts}, --retry-timeout {policy.timeout:g}): {error}") from error
    raise AssertionError("unreachable: tenacity stops by returning or raising")
