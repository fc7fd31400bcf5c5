"""All-or-nothing writes: a use case's items, its conditional writes and its budget counters in one
``TransactWriteItems``.

A new lead is its claims, the lead, its events and its answer; written together they either all
exist or none does, so a crash can never leave a claim without its lead, and the whole costs one
round trip. A refused condition comes back as :class:`Refused` naming what was refused (a claim
taken meanwhile, a lead changed meanwhile, a spent budget), never as an SDK exception.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from chalicelib.store.batch import _client
from chalicelib.store.counters import Counter, combined, counter_update

MAX_ITEMS = 100
MAX_ATTEMPTS = 10


@dataclass(frozen=True)
class Guarded:
    """One write of a transaction, with what its refusal would mean (``label``)."""

    operation: str  # "Put", "Update", "Delete" or "ConditionCheck"
    params: dict[str, Any]
    label: str = ""


def put(item: Any, condition: Any = None, label: str = "") -> Guarded:
    return Guarded("Put", _clean(item.get_save_kwargs_from_instance(condition=condition)), label)


def update(item: Any, actions: list[Any], condition: Any = None, label: str = "") -> Guarded:
    return Guarded("Update", _clean(item.get_update_kwargs_from_instance(actions=actions, condition=condition)), label)


def delete(item: Any, condition: Any = None, label: str = "") -> Guarded:
    return Guarded("Delete", _clean(item.get_delete_kwargs_from_instance(condition=condition)), label)


def _clean(params: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in params.items() if value is not None}


@dataclass
class Refused(Exception):
    """Some condition failed, so nothing was written: the labels of the refused writes, and the spent counters."""

    labels: list[str] = field(default_factory=list)
    counters: list[Counter] = field(default_factory=list)

    def __str__(self) -> str:
        return f"refused: {', '.join(self.labels) or 'budgets'}"


class Contended(Exception):
    """Concurrent transactions kept conflicting on the same items: nothing was written; try again shortly."""


def commit(writes: Sequence[Guarded], counters: Sequence[Counter] = ()) -> None:
    """Apply every write and add one to every counter, atomically, or raise :class:`Refused`.

    The SDK's retry of a call whose answer was lost reuses the call's idempotency token, so a
    transaction applied once is never applied twice.
    """
    from botocore.exceptions import ClientError

    table, counters = _counter_table(), combined(counters)
    items = [counter_update(table, counter) for counter in counters]
    items += [{write.operation: write.params} for write in writes]
    if not items:
        return
    if len(items) > MAX_ITEMS:
        raise ValueError(f"a transaction holds at most {MAX_ITEMS} items, not {len(items)}")
    for attempt in range(MAX_ATTEMPTS):
        try:
            _client().transact_write_items(TransactItems=items, ReturnConsumedCapacity="TOTAL")
            return
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = [reason.get("Code") for reason in error.response.get("CancellationReasons") or []]
            failed = [index for index, code in enumerate(reasons) if code == "ConditionalCheckFailed"]
            # Another writer is changing one of our guarded items right now: what we read is
            # likely stale, so let the caller read again rather than replay the same conditions.
            guarded = range(len(counters), len(reasons))
            failed += [index for index in guarded
                       if reasons[index] == "TransactionConflict" and writes[index - len(counters)].label]
            if failed:
                raise Refused(labels=[writes[i - len(counters)].label for i in failed if i >= len(counters)],
                              counters=[counters[i] for i in failed if i < len(counters)]) from None
            if attempt == MAX_ATTEMPTS - 1:
                raise Contended() from None
            time.sleep(min(0.5, 0.01 * 2**attempt) * random.uniform(0.2, 1.0))


def _counter_table() -> str:
    from chalicelib.store.models.claims import RateCounterRecord

    return RateCounterRecord.Meta.table_name
