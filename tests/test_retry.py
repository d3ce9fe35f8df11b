"""updater.retry: the named policies — what retries, how often, how long, and what is logged."""

from __future__ import annotations

import logging
import time

import pytest

from updater.errors import AuthFailed, PushRejected, RemoteError, TransientRemoteError
from updater.retry import RetrySettings, call_with_retries, retry_api, retry_on_race, retry_transient


def flaky(errors: list[Exception], value: str = "done"):
    calls: list[int] = []

    def fn(attempt: int) -> str:
        calls.append(attempt)
        if errors:
            raise errors.pop(0)
        return value

    return fn, calls


def test_transient_errors_retry_until_success_with_numbered_logs(caplog: pytest.LogCaptureFixture) -> None:
    fn, calls = flaky([PushRejected("moved"), TransientRemoteError("502")])
    waits: list[float] = []
    with caplog.at_level(logging.WARNING, logger="updater.retry"):
        assert call_with_retries(fn, retry_transient(RetrySettings(attempts=5, wait_base=0.5)), what="x",
                                 sleep=waits.append) == "done"
    assert calls == [1, 2, 3]
    assert [m for m in caplog.messages] == [f"attempt 2/5 in {waits[0]:.2f}s (x): moved",
                                            f"attempt 3/5 in {waits[1]:.2f}s (x): 502"]
    assert 0 <= waits[0] <= 0.5 and 0 <= waits[1] <= 1.0  # full jitter: uniform up to base * 2^n


def test_permanent_errors_fail_at_once() -> None:
    fn, calls = flaky([AuthFailed("bad token")])
    with pytest.raises(AuthFailed):
        call_with_retries(fn, retry_transient(RetrySettings()), what="x", sleep=lambda s: None)
    assert calls == [1]


def test_budget_by_count_ends_in_a_permanent_remote_error() -> None:
    fn, calls = flaky([PushRejected("moved")] * 10)
    with pytest.raises(RemoteError, match=r"push still failing after 3 attempt\(s\) .*--retries 3.*: moved") as caught:
        call_with_retries(fn, retry_transient(RetrySettings(attempts=3, limits="--retries 3")), what="push", sleep=lambda s: None)
    assert calls == [1, 2, 3] and not caught.value.transient
    assert isinstance(caught.value.__cause__, PushRejected)


def test_budget_by_time_stops_before_a_wait_that_would_pass_it() -> None:
    fn, calls = flaky([TransientRemoteError("503")] * 100)
    policy = RetrySettings(attempts=100, timeout=0.3, wait_base=0.05, wait_max=0.05, limits="--retry-timeout 0.3")
    waits: list[float] = []

    def really_sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    started = time.monotonic()
    with pytest.raises(RemoteError, match="--retry-timeout 0.3"):
        call_with_retries(fn, retry_transient(policy), what="x", sleep=really_sleep)
    assert len(calls) < 100 and sum(waits) <= 0.3
    assert time.monotonic() - started < 0.3 + 0.25  # never a wait past the budget


def test_waits_grow_exponentially_and_are_capped() -> None:
    fn, _ = flaky([PushRejected("moved")] * 7)
    waits: list[float] = []
    call_with_retries(fn, retry_transient(RetrySettings(attempts=8, wait_base=1.0, wait_max=4.0)), what="x",
                      sleep=waits.append)
    assert len(waits) == 7 and all(0 <= w <= 4.0 for w in waits)
    assert all(w <= 2 ** i for i, w in enumerate(waits))


def test_retry_on_race_does_not_retry_network_errors() -> None:
    fn, calls = flaky([TransientRemoteError("500")])
    with pytest.raises(TransientRemoteError):
        call_with_retries(fn, retry_on_race(RetrySettings()), what="x", sleep=lambda s: None)
    assert calls == [1]


def test_invalid_policies_are_rejected() -> None:
    with pytest.raises(ValueError):
        RetrySettings(attempts=0)


def test_waits_scale_with_how_long_a_round_takes() -> None:
    """A round of a race lasts as long as the failed attempt: the backoff step grows to match it."""
    calls: list[int] = []

    def slow_race(attempt: int) -> str:
        calls.append(attempt)
        time.sleep(0.05)
        if attempt < 6:
            raise PushRejected("moved")
        return "landed"

    waits: list[float] = []
    policy = RetrySettings(attempts=6, wait_base=0.0001, wait_max=10.0)
    assert call_with_retries(slow_race, retry_transient(policy), what="x", sleep=waits.append) == "landed"
    assert max(waits) > 0.0001 * 2 ** 5  # beyond what wait_base alone allows
    assert all(w <= 0.2 * 2 ** i for i, w in enumerate(waits))  # and bounded by the round's length


def test_every_policy_logs_the_same_line(caplog: pytest.LogCaptureFixture) -> None:
    """The forge API policy and the landing policy share one format: attempt number, wait, what, why."""
    for policy in (retry_api(RetrySettings(attempts=2, wait_base=0.0, wait_max=0.0)),
                   retry_transient(RetrySettings(attempts=2, wait_base=0.0, wait_max=0.0))):
        fn, _ = flaky([TransientRemoteError("502")])
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="updater.retry"):
            call_with_retries(fn, policy, what="GitHub API: read", sleep=lambda s: None)
        assert caplog.messages == ["attempt 2/2 in 0.00s (GitHub API: read): 502"]
