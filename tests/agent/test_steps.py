"""The pass's pure steps: the schedule, a stopped pass as a value, and the status a result makes."""

from __future__ import annotations

from updater.agent.health import Health
from updater.agent.objects import ObjectKey
from updater.agent.record import status_of
from updater.agent.schedule import Schedule
from updater.agent.settings import AppSettings
from updater.agent.sync import SyncResult
from updater.errors import BadInput

FAST = AppSettings(name="fast", repo="r", interval=1.0)
SLOW = AppSettings(name="slow", repo="r", interval=10.0)
KEY = ObjectKey("apps", "Deployment", "shop", "api")


def test_every_app_is_due_first_then_each_after_its_own_interval() -> None:
    schedule = Schedule([FAST, SLOW])
    assert schedule.due(100.0, triggered=False) == [FAST, SLOW]
    schedule.done(FAST, 100.0)
    schedule.done(SLOW, 100.0)
    assert schedule.due(100.5, triggered=False) == []
    assert schedule.due(101.0, triggered=False) == [FAST]
    assert schedule.due(100.5, triggered=True) == [FAST, SLOW]  # a webhook syncs everything at once
    assert schedule.wait(100.5) == 0.5


def test_the_wait_is_never_a_busy_loop_and_renews_the_lease_in_time() -> None:
    schedule = Schedule([SLOW])
    schedule.done(SLOW, 0.0)
    assert schedule.wait(20.0) == 0.05  # overdue
    assert schedule.wait(0.0, lease_seconds=15.0) == 5.0  # the leader renews at a third of the Lease
    assert schedule.wait(0.0, lease_seconds=15.0, leading=False) == 5.0
    assert schedule.wait(0.0, lease_seconds=60.0) == 10.0


def test_a_stopped_pass_is_a_degraded_result_carrying_its_error() -> None:
    error = BadInput("path 'x' does not exist in the repository")
    result = SyncResult.stopped("abc", error)
    assert result.error is error and result.errors == (str(error),) and result.inventory is None
    status = status_of("shop", result, notes=(), objects=0, duration=0.5)
    assert (status.sync, status.health, status.errors) == ("OutOfSync", "Degraded", (str(error),))


def test_status_of_a_sync_with_unhealed_drift_is_out_of_sync_but_healthy() -> None:
    result = SyncResult("abc", applied=((KEY, "configured"),), drifted=(KEY,), unhealed=(KEY,), health=Health.HEALTHY)
    status = status_of("shop", result, notes=("n",), objects=3, duration=1.0)
    assert status.applied == ("Deployment.apps shop/api configured",) and status.drifted == ("Deployment.apps shop/api",)
    assert (status.sync, status.health, status.objects, status.notes) == ("OutOfSync", "Healthy", 3, ("n",))
    assert status_of("shop", SyncResult("abc"), notes=(), objects=0, duration=0).sync == "Synced"
