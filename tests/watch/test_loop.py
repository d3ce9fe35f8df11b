"""The schedule of `updater watch --every` (`updater.watch.loop`), on a clock the test moves: passes
start on a fixed grid from each pass's start, a failing pass is logged once and the loop goes on, a
stop ends it between passes; durations are parsed as the agent's --interval."""

from __future__ import annotations

import logging
import os
import signal

import pytest

from updater.errors import BadInput
from updater.registry.errors import RegistryUnavailable
from updater.watch.loop import Stop, parse_every, run_every, stopping_on


class Clock:
    """Time that moves only when slept through or when a pass says it took a while."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_passes_start_every_interval_from_the_previous_start() -> None:
    clock = Clock()
    stop = Stop(sleep=clock.sleep, clock=clock)
    starts: list[float] = []

    def one_pass(number: int) -> None:
        starts.append(clock.now)
        clock.now += 3.0 if number != 2 else 12.5  # the second pass overruns the 10 s interval
        if number == 4:
            stop.set()

    assert run_every(10.0, one_pass, stop, clock=clock) == 4
    # 1000 -> 1010 (3 s pass, 7 s idle); pass 2 took 12.5 s: pass 3 starts at once; then 10 s again
    assert starts == [1000.0, 1010.0, 1022.5, 1032.5]


def test_a_failing_pass_is_one_line_and_the_loop_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    stop = Stop(sleep=clock.sleep, clock=clock)
    ran: list[int] = []

    def one_pass(number: int) -> None:
        ran.append(number)
        if number == 3:
            stop.set()
        if number < 3:
            raise RegistryUnavailable("registry.local: cannot reach registry.local after 3 attempt(s)")

    with caplog.at_level(logging.INFO, logger="updater.watch"):
        assert run_every(60.0, one_pass, stop, clock=clock) == 3
    failed = [r.getMessage() for r in caplog.records if "failed" in r.getMessage()]
    assert failed == [f"watch: pass {n} failed (exit 7): registry.local: cannot reach registry.local after 3 "
                      f"attempt(s); next pass in 60 s" for n in (1, 2)]
    assert ran == [1, 2, 3]


def test_an_unexpected_error_ends_the_loop() -> None:
    clock = Clock()

    def one_pass(number: int) -> None:
        raise KeyError("a bug")

    with pytest.raises(KeyError):
        run_every(5.0, one_pass, Stop(sleep=clock.sleep, clock=clock), clock=clock)


def test_a_stop_while_idle_is_seen_within_a_slice() -> None:
    clock = Clock()

    def sleep(seconds: float) -> None:  # a signal arriving 2 s into the wait
        clock.sleep(seconds)
        if clock.now >= 1002.0:
            stop.set(signal.SIGTERM)

    stop = Stop(sleep=sleep, clock=clock)
    assert stop.wait(300.0) is True
    assert clock.now == pytest.approx(1002.0) and max(clock.slept) <= Stop.SLICE
    assert stop.signum == signal.SIGTERM


def test_signals_set_the_stop_and_the_old_handlers_come_back() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with stopping_on() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.requested and stop.signum == signal.SIGTERM
        os.kill(os.getpid(), signal.SIGINT)
        assert stop.signum == signal.SIGTERM  # the first signal is the one reported
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.parametrize(("text", "seconds"), [("90", 90.0), ("30s", 30.0), ("5m", 300.0), ("1h30m", 5400.0),
                                               ("1.5s", 1.5)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_every(text) == seconds


@pytest.mark.parametrize("text", ["0", "0.5s", "5 minutes", "", "nan", "inf", "-5m"])
def test_bad_durations_name_the_flag(text: str) -> None:
    with pytest.raises(BadInput, match=r"^--every "):
        parse_every(text)
