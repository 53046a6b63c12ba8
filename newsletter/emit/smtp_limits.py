"""How fast `emit --mode smtp` may go: smtp.per_minute across connections, smtp.per_day from
the ledger, and the waits between retries.

Waits sleep with select in short steps, checking whether the run is stopping: a timed wait
on a threading primitive that nobody wakes would block for years under CI's moved clock
(libfaketime), and a Ctrl-C must not wait out a long pause. Intervals are measured on
time.monotonic; per_day's window on the ledger's times (clock.now()), so it survives restarts.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import clock
from ..errors import NewsletterError
from ..sqlite_tx import ProcessLock
from .ledger import Ledger

STEP = 0.05  # seconds between looks at whether the run is stopping
DAY = dt.timedelta(hours=24)


def pause(seconds: float, stopping: Callable[[], bool] = lambda: False) -> bool:
    """Sleep `seconds`; False if the run started stopping meanwhile (returns early)."""
    deadline = time.monotonic() + seconds
    while True:
        if stopping():
            return False
        left = deadline - time.monotonic()
        if left <= 0:
            return True
        select.select([], [], [], min(left, STEP))


@dataclass(frozen=True)
class Timing:
    """Waits and timeouts, in seconds. The environment may shorten them (the tests do)."""

    retry_wait: float = 5.0     # the first wait after a 4xx; doubled for each retry
    retries: int = 3            # retries of a message within a run before it is left pending
    timeout: float = 60.0       # connecting and each command
    dot_timeout: float = 600.0  # the reply to the final dot: RFC 5321 4.5.3.2.6 says 10 min

    @classmethod
    def from_env(cls) -> Timing:
        values = {}
        for field, name in (("retry_wait", "NEWSLETTER_SMTP_RETRY_WAIT"),
                            ("timeout", "NEWSLETTER_SMTP_TIMEOUT")):
            text = os.environ.get(name)
            if text:
                try:
                    values[field] = float(text)
                except ValueError:
                    raise NewsletterError(f"{name}={text!r} is not a number of seconds",
                                          f"unset {name}, or write it as 2.5") from None
        return cls(**values)

    def backoff(self, attempt: int) -> float:
        """The wait before retry number `attempt` (from 1)."""
        return self.retry_wait * 2 ** (attempt - 1)


class Pace:
    """At most `per_minute` messages a minute over all connections: one slot every
    60/per_minute s (a bucket of one token, so no minute ever holds a burst). `shared`: the
    connections are in several processes (smtp_processes.py), so the next slot is in
    memory they share, under that lock."""

    def __init__(self, per_minute: int, *, shared: ProcessLock | None = None) -> None:
        self.interval = 60.0 / per_minute
        self._next = multiprocessing.RawValue("d", time.monotonic())  # shared if it forks
        self._lock: Any = shared or threading.Lock()

    def wait(self, stopping: Callable[[], bool]) -> bool:
        """Wait for this connection's next slot; False if the run is stopping."""
        with self._lock:
            slot = max(time.monotonic(), self._next.value)  # monotonic: one clock per machine
            self._next.value = slot + self.interval
        return pause(slot - time.monotonic(), stopping)


class DailyLimit:
    """smtp.per_day over the last 24 h, counting the DATA the ledgers recorded (this run's and
    earlier runs', the other issues' and the welcome's beside it): a message whose DATA
    began counts, whatever the server answered."""

    def __init__(self, per_day: int, ledger: Ledger, *,
                 shared: ProcessLock | None = None) -> None:
        self.per_day = per_day
        self.ledger = ledger
        used, _ = ledger.sent_since(_window_start())
        self._used = multiprocessing.RawValue("q", used)  # shared if it forks
        self._lock: Any = shared or threading.Lock()

    def take(self) -> bool:
        """Reserve one message of today's allowance; False once it is used up."""
        with self._lock:
            if self._used.value >= self.per_day:
                return False
            self._used.value += 1
            return True

    def give_back(self) -> None:
        """A reserved message that never reached DATA (refused or retried before it)."""
        with self._lock:
            self._used.value -= 1

    def resume_at(self) -> dt.datetime:
        """When the oldest message in the window leaves it: the run can go on from then."""
        _, oldest = self.ledger.sent_since(_window_start())
        return (dt.datetime.fromisoformat(oldest) if oldest else clock.now()) + DAY


def _window_start() -> str:
    return (clock.now() - DAY).isoformat(timespec="seconds")

