"""What one use case writes together: items from any repository, saved in as few calls as possible.

Repositories build the items (a lead, a claim, an event, an audit record); a use case collects
them here and commits once, 25 items a ``BatchWriteItem`` with unprocessed items retried, so a
submission that touches four tables still costs one write call.
"""

from __future__ import annotations

from typing import Any

from chalicelib.store import atomic
from chalicelib.store.atomic import Guarded
from chalicelib.store.batch import write_all
from chalicelib.store.counters import Counter


class Changes:
    """Puts and deletes collected by a use case, committed together."""

    def __init__(self) -> None:
        self.puts: list[Any] = []
        self.deletes: list[Any] = []
        self.guarded: list[Guarded] = []

    def put(self, *items: Any) -> Changes:
        self.puts += [item for item in items if item is not None]
        return self

    def delete(self, *items: Any) -> Changes:
        self.deletes += [item for item in items if item is not None]
        return self

    def guard(self, *writes: Guarded) -> Changes:
        """Conditional writes a repository built (a claim, a versioned update): atomic commits only."""
        self.guarded += writes
        return self

    def __bool__(self) -> bool:
        return bool(self.puts or self.deletes or self.guarded)

    def commit(self) -> int:
        """Write everything collected in batches; returns the number of write calls made."""
        if self.guarded:
            raise ValueError("conditional writes need commit_atomically()")
        if not self:
            return 0
        calls = write_all(self.puts, self.deletes)
        self.puts, self.deletes = [], []
        return calls

    def commit_atomically(self, counters: list[Counter] | None = None) -> None:
        """Write everything, and add one to each budget counter, in one transaction or not at all.

        Raises :class:`chalicelib.store.atomic.Refused` naming what was refused.
        """
        writes = [*self.guarded, *(atomic.put(item) for item in self.puts),
                  *(atomic.delete(item) for item in self.deletes)]
        atomic.commit(writes, counters or [])
        self.puts, self.deletes, self.guarded = [], [], []


def save(*items: Any) -> int:
    """Put these items (of any repository) in as few calls as possible."""
    return Changes().put(*items).commit()
