"""Step 5 of a pass, schedule: when each app is due again. Pure: no clock or I/O of its own.

An app is due at its interval after its last pass finished, or at once when a webhook arrived. With
leader election the wait is also capped at a third of the Lease, so the leader renews well before
the Lease runs out and a standby keeps trying to take it over.
"""

from __future__ import annotations

from collections.abc import Iterable

from updater.agent.settings import AppSettings


class Schedule:
    def __init__(self, apps: Iterable[AppSettings]) -> None:
        self._apps = {app.name: app for app in apps}
        self._due = {name: 0.0 for name in self._apps}  # every app is due on the first round

    def due(self, now: float, *, triggered: bool) -> list[AppSettings]:
        """The apps to sync in this round, in configuration order."""
        return [app for name, app in self._apps.items() if triggered or self._due[name] <= now]

    def done(self, app: AppSettings, now: float) -> None:
        self._due[app.name] = now + app.interval

    def wait(self, now: float, *, lease_seconds: float | None = None, leading: bool = True) -> float:
        """Seconds to sleep before the next round (at least 50 ms: never a busy loop)."""
        wait = min(self._due.values()) - now
        if lease_seconds is not None:  # renew well before the Lease runs out; a standby just retries
            wait = min(wait, lease_seconds / 3) if leading else lease_seconds / 3
        return max(0.05, wait)
