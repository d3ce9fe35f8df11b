"""The loop of `updater watch --every DURATION`: passes on a fixed schedule until SIGTERM or SIGINT.

A pass starts every DURATION measured from the start of the one before (no jitter: one watcher per
repository, and the registry phase is a handful of calls); a pass that takes longer is followed at
once by the next. A pass that fails with an `UpdaterError` (a registry down, a forge refusing) is
logged in one line and the loop goes on: the next pass may well succeed. Anything else is a bug and
ends the loop with its traceback (Kubernetes restarts the pod).

A signal never interrupts a pass in the middle of a bump: it sets `Stop`, which the pass checks
before each target and the loop checks while it waits, so the process ends between two steps with
nothing half-pushed. Knows nothing of registries or bumps: a pass is a callable. The clock and the
wait are parameters so the schedule is tested without sleeping.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from updater.durations import parse_seconds
from updater.errors import BadInput, UpdaterError

log = logging.getLogger("updater.watch")

# Below this, a watcher polls its registries (and their rate limits) for no benefit: image builds take minutes.
MIN_EVERY = 1.0


def parse_every(text: str, *, flag: str = "--every") -> float:
    """Seconds from `90`, `30s`, `5m`, `1h`, `1h30m` (`updater.durations`, as the agent reads them), at least 1 s."""
    seconds = parse_seconds(text, name=flag)
    if not seconds >= MIN_EVERY or seconds == float("inf"):  # also refuses nan
        raise BadInput(f"{flag} {text!r}: give at least {MIN_EVERY:g} s (e.g. 5m)")
    return seconds


class Stop:
    """Set once a stop is asked (by a signal, or a test); remembers which signal.

    A plain flag, not a `threading.Event`: a signal handler that takes the Event's lock while the
    main thread holds it (inside `Event.wait`) deadlocks. `wait` sleeps in short slices instead."""

    SLICE = 0.1  # the longest a stop waits to be seen while idle

    def __init__(self, *, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._stopped = False
        self.signum: int | None = None
        self._sleep, self._clock = sleep, clock

    def set(self, signum: int | None = None) -> None:
        if not self._stopped:
            self.signum = signum
        self._stopped = True

    @property
    def requested(self) -> bool:
        return self._stopped

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True when stopped meanwhile."""
        until = self._clock() + seconds
        while not self._stopped and (left := until - self._clock()) > 0:
            self._sleep(min(self.SLICE, left))
        return self._stopped


@contextmanager
def stopping_on(signals: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGINT)) -> Iterator[Stop]:
    """A `Stop` set by these signals while the block runs; the previous handlers come back after."""
    stop = Stop()

    def handle(signum: int, _frame: FrameType | None) -> None:
        log.warning("%s received: stopping after the current step", signal.Signals(signum).name)
        stop.set(signum)

    previous = {sig: signal.signal(sig, handle) for sig in signals}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_every(every: float, one_pass: Callable[[int], None], stop: Stop, *,
              clock: Callable[[], float] = time.monotonic) -> int:
    """Run `one_pass(n)` for n = 1, 2, ... every `every` seconds until `stop`; the number of passes run."""
    done = 0
    while not stop.requested:
        started = clock()
        done += 1
        try:
            one_pass(done)
        except UpdaterError as err:
            log.error("watch: pass %d failed (exit %d): %s; next pass in %s", done, int(err.exit_code), err,
                      _seconds(max(0.0, started + every - clock())))
        late = clock() - (started + every)
        if late > 0 and not stop.requested:
            log.warning("watch: pass %d took %s, longer than --every %s; the next one starts now",
                        done, _seconds(every + late), _seconds(every))
        stop.wait(started + every - clock())
    return done


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value >= 10 else f"{value:.1f} s"
