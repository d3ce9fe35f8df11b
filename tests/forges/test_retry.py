"""The forge API retry policy (`retry_api`), polling, and the forges' rate-limit hints (pure: literal headers and errors)."""

from __future__ import annotations

import time

import pytest

from updater.errors import BadInput, RemoteError, TransientRemoteError
from updater.forges.base import RateLimited, retry_after
from updater.forges.settings import ProviderSettings, poll
from updater.retry import RetrySettings, call_with_retries, retry_api

FAST = RetrySettings(attempts=3, wait_base=0.0, wait_max=0.2)


def retry_provider(settings: RetrySettings, what: str, call):
    return call_with_retries(lambda _: call(), retry_api(settings), what=what)


def test_hint_prefers_retry_after():
    assert retry_after({"retry-after": "7", "x-ratelimit-reset": "1"}, reset="x-ratelimit-reset") == 7.0


def test_hint_from_reset_time_when_exhausted():
    wait = retry_after({"x-ratelimit-reset": str(int(time.time()) + 30)}, reset="x-ratelimit-reset")
    assert wait is not None and 28 <= wait <= 30


def test_no_hint_from_reset_time_when_quota_is_left():
    assert retry_after({"x-ratelimit-reset": "99999999999"}, reset="x-ratelimit-reset", exhausted=False) is None


def test_gitlab_hint_from_ratelimit_reset():
    wait = retry_after({"ratelimit-reset": str(int(time.time()) + 10)}, reset="ratelimit-reset")
    assert wait is not None and 8 <= wait <= 10


def test_hint_as_an_http_date():
    from email.utils import formatdate

    wait = retry_after({"retry-after": formatdate(time.time() + 20, usegmt=True)}, reset="x")
    assert wait is not None and 18 <= wait <= 20.5
    assert retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, reset="x") == 0.0  # in the past


def test_unreadable_hint_is_none():
    assert retry_after({"retry-after": "soon"}, reset="x") is None


def test_transient_errors_retry_then_succeed():
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise TransientRemoteError("502")
        return "ok"

    assert retry_provider(FAST, "GitHub API: read", flaky) == "ok" and len(calls) == 3


def test_exhausted_retries_become_a_permanent_remote_error():
    def always() -> None:
        raise TransientRemoteError("server error 503")

    with pytest.raises(RemoteError, match=r"read still failing after 3 attempt\(s\) in [0-9.]+s: server error 503") as err:
        retry_provider(FAST, "read", always)
    assert not err.value.transient


def test_permanent_errors_are_not_retried():
    calls = []

    def bad() -> None:
        calls.append(1)
        raise BadInput("404")

    with pytest.raises(BadInput):
        retry_provider(FAST, "read", bad)
    assert calls == [1]


def test_the_forges_hint_is_waited_but_capped():
    calls = []

    def limited() -> str:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise RateLimited("secondary limit", retry_after=60)  # capped at max_wait (0.2 s)
        return "ok"

    assert retry_provider(FAST, "read", limited) == "ok"
    assert 0.15 <= calls[1] - calls[0] < 2


def test_a_minimum_wait_the_forge_demands_is_waited_past_max_wait_within_the_budget():
    calls = []

    def limited() -> str:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise RateLimited("secondary limit", retry_after=60, at_least=True)
        return "ok"

    budget = RetrySettings(attempts=3, timeout=1.0, wait_base=0.0, wait_max=0.2)
    assert retry_provider(budget, "read", limited) == "ok"
    assert 0.8 <= calls[1] - calls[0] < 1.0  # not the 0.2 s max_wait: what the 1 s budget leaves


def test_a_minimum_wait_longer_than_the_budget_gives_up_saying_so():
    calls = []

    def limited() -> str:
        calls.append(time.monotonic())
        raise RateLimited("secondary limit", retry_after=60, at_least=True)

    budget = RetrySettings(attempts=10, timeout=0.6, wait_base=0.0, wait_max=0.2)
    with pytest.raises(RemoteError, match=r"at least 60 s between tries.*--retry-timeout"):
        retry_provider(budget, "read", limited)
    assert len(calls) == 2  # one wait of what was left, then no more tries at once


def test_poll_stops_at_its_bound():
    reads = []
    assert poll(ProviderSettings(poll_attempts=4, poll_wait=0.01), lambda: reads.append(1)) is None
    assert len(reads) == 4
    assert poll(ProviderSettings(poll_attempts=4, poll_wait=0.01), lambda: "clean") == "clean"
