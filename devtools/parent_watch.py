"""Stop the local run when ``make`` is interrupted, even when only ``make`` got the signal.

A terminal's Ctrl-C reaches every process of the foreground group, but a SIGINT sent to ``make``
alone (``kill -INT``, an IDE's stop button, a supervisor) is not passed on: GNU make runs its
handler, resets SIGINT to the default and then waits for its children, which never learn of it,
so the run (and DynamoDB Local) would go on and ``make`` would wait forever. (SIGTERM is passed on
by make itself.) Linux shows a process's caught signals in ``/proc/<pid>/status`` (``SigCgt``), so
a thread watches the parent: when make stops catching SIGINT, or goes away, the run interrupts
itself and stops cleanly. Elsewhere (no ``/proc``) only a vanished parent is noticed.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path

MAKE_NAMES = frozenset({"make", "gmake"})


def catches(pid: int, signum: int, proc: Path = Path("/proc")) -> bool | None:
    """Whether process ``pid`` has a handler for ``signum``; None when that cannot be read."""
    try:
        for line in (proc / str(pid) / "status").read_text().splitlines():
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    except (OSError, ValueError, IndexError):
        return None
    return None


def process_name(pid: int, proc: Path = Path("/proc")) -> str | None:
    try:
        return (proc / str(pid) / "comm").read_text().strip()
    except OSError:
        return None


class ParentWatch(threading.Thread):
    """Calls ``interrupt`` once when the parent goes away or stops catching SIGINT (it is being interrupted)."""

    def __init__(self, parent: int, interrupt: Callable[[], None], interval_s: float = 0.2,
                 getppid: Callable[[], int] = os.getppid,
                 catches_sigint: Callable[[int], bool | None] | None = None) -> None:
        super().__init__(name="leadvault-parent-watch", daemon=True)
        self.parent = parent
        self._interrupt = interrupt
        self._interval_s = interval_s
        self._getppid = getppid
        self._catches = catches_sigint or (lambda pid: catches(pid, signal.SIGINT))
        self._watch_sigint = self._catches(parent) is True
        self._stopping = threading.Event()

    def check(self) -> bool:
        """True (and ``interrupt`` called) when the run must stop now."""
        if self._getppid() != self.parent or (self._watch_sigint and self._catches(self.parent) is False):
            self._stopping.set()
            self._interrupt()
            return True
        return False

    def run(self) -> None:
        while not self._stopping.wait(self._interval_s):
            self.check()

    def stop(self) -> None:
        self._stopping.set()


def stop_with_make() -> ParentWatch | None:
    """Under ``make run``, interrupt this process (as Ctrl-C would) when make is interrupted or gone."""
    parent = os.getppid()
    if process_name(parent) not in MAKE_NAMES:
        return None
    watch = ParentWatch(parent, lambda: os.kill(os.getpid(), signal.SIGINT))
    watch.start()
    return watch
