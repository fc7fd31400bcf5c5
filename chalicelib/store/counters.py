"""Budget counters: one conditional ADD per counter, spent in a transaction (:mod:`chalicelib.store.atomic`).

A counter is an item of ``unique_keys`` per scope and time window. Each request that spends a
budget adds one to every counter it touches, in a single ``TransactWriteItems`` whose conditions
say "still under the limit". Either every counter moves or none does, so a refused request spends
nothing, and there is never a read before the write. A use case that writes atomically anyway
(a new lead) adds its counters to its own transaction instead (:mod:`chalicelib.store.atomic`).

Internal to ``chalicelib.store``: services spend budgets through :mod:`chalicelib.store.tenants`,
which owns the counters' key format.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Counter:
    """One budget counter: its key, its limit within the window, and when the window ends."""

    pk: str
    limit: int
    window_ends: datetime
    amount: int = 1  # how much one request adds (two messages of one request to the same budget: 2)


def combined(counters: Sequence[Counter]) -> list[Counter]:
    """One counter per item: a transaction may touch an item once, so amounts to one counter add up."""
    merged: dict[str, Counter] = {}
    for counter in counters:
        seen = merged.get(counter.pk)
        merged[counter.pk] = counter if seen is None else Counter(
            counter.pk, min(seen.limit, counter.limit), max(seen.window_ends, counter.window_ends),
            seen.amount + counter.amount)
    return list(merged.values())


def counter_update(table: str, counter: Counter) -> dict[str, Any]:
    return {"Update": {
        "TableName": table,
        "Key": {"pk": {"S": counter.pk}},
        "UpdateExpression": "ADD #count :one SET #expires = if_not_exists(#expires, :expires)",
        # count + amount <= limit, in whole numbers
        "ConditionExpression": "attribute_not_exists(#count) OR #count < :limit",
        "ExpressionAttributeNames": {"#count": "count", "#expires": "expires_at"},
        # Kept a day past its window, then TTL removes it.
        "ExpressionAttributeValues": {":one": {"N": str(counter.amount)},
                                      ":limit": {"N": str(counter.limit - counter.amount + 1)},
                                      ":expires": {"N": str(int(counter.window_ends.timestamp()) + 86400)}},
    }}
