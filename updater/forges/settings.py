"""The bounds of a forge provider: its API retries (an `updater.retry.RetrySettings`, used with the
`retry_api` policy), the per-request timeout, and the polling of "still computing" answers.

The clients' own retries are switched off (PyGithub `retry=None`, python-gitlab without
`obey_rate_limit`/`retry_transient_errors`) so that every retry is `updater.retry`'s: named,
logged with its number and wait, bounded by attempts and total time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from updater.retry import API_RETRY, RetrySettings

T = TypeVar("T")


@dataclass(frozen=True)
class ProviderSettings:
    retry: RetrySettings = API_RETRY
    request_timeout: float = 30.0  # per HTTP request; a hung connection counts as transient
    poll_attempts: int = 10  # mergeability "still computing": re-read this many times at most
    poll_wait: float = 0.25  # first wait between mergeability reads (grows 1.5x, capped at 3 s)
    # GitLab refuses auto-merge (405) until the MR has a pipeline, created some seconds after a push;
    # GitHub's PR head lags a push as long: wait at most this long for either before giving up.
    pipeline_wait: float = 30.0


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
