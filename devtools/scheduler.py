"""Fires the scheduled functions on their rates inside the local run, as EventBridge would."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from chalicelib.jobs import Schedule


class LocalScheduler(threading.Thread):
    """One thread; each job runs every ``every_minutes * scale`` minutes, first after one interval."""

    def __init__(
        self,
        schedules: Mapping[str, Schedule],
        run: Callable[[str], Any],
        scale: float = 1.0,
        tick_s: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(name="leadvault-scheduler", daemon=True)
        self._schedules = dict(schedules)
        self._run = run
        self._scale = scale
        self._tick_s = tick_s
        self._stopping = threading.Event()
        self._monotonic = monotonic
        start = monotonic()
        self.next_due = {name: start + self._interval(name) for name in self._schedules}
        self.fired: dict[str, int] = {name: 0 for name in self._schedules}

    def _interval(self, name: str) -> float:
        return self._schedules[name].every_minutes * 60.0 * self._scale

    def run(self) -> None:
        while not self._stopping.wait(self._tick_s):
            self.tick()

    def tick(self) -> None:
        """Run every job that is due now; each is next due one interval after it finished."""
        now = self._monotonic()
        for name, due in list(self.next_due.items()):
            if now >= due:
                self._run(name)
                self.fired[name] += 1
                self.next_due[name] = self._monotonic() + self._interval(name)

    def stop(self, timeout_s: float = 30.0) -> None:
        """Fire nothing more, and let a job already running finish (and log) before the process exits."""
        self._stopping.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout_s)
