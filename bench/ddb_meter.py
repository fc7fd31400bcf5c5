"""Counts DynamoDB calls and consumed capacity through a botocore event hook."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})


@dataclass
class Meter:
    calls: int = 0
    wcu: float = 0.0
    rcu: float = 0.0
    items_read: int = 0
    operations: Counter[str] = field(default_factory=Counter)

    def record(self, operation: str, parsed: dict[str, Any]) -> None:
        self.calls += 1
        self.operations[operation] += 1
        if operation in ("Query", "Scan"):
            self.items_read += int(parsed.get("ScannedCount", parsed.get("Count", 0)))
        elif operation == "GetItem":
            self.items_read += 1 if parsed.get("Item") else 0
        elif operation == "BatchGetItem":
            self.items_read += sum(len(items) for items in parsed.get("Responses", {}).values())
        consumed = parsed.get("ConsumedCapacity") or []
        for entry in consumed if isinstance(consumed, list) else [consumed]:
            write, read = entry.get("WriteCapacityUnits"), entry.get("ReadCapacityUnits")
            if write is None and read is None:  # only the total came back: classify by operation
                total = entry.get("CapacityUnits", 0.0)
                write, read = (total, 0.0) if operation in _WRITES else (0.0, total)
            self.wcu += write or 0.0
            self.rcu += read or 0.0


_ACTIVE: list[Meter] = []


def _on_call(parsed: dict[str, Any], model: Any, **_: Any) -> None:
    for meter in _ACTIVE:
        meter.record(model.name, parsed)


def install() -> None:
    """Hook the store's botocore session; call before the first DynamoDB client is created."""
    from chalicelib.store.binding import _share_sessions, _thread_session

    _share_sessions()
    _thread_session().register("after-call.dynamodb", _on_call, unique_id="bench-meter")


@contextmanager
def metered() -> Iterator[Meter]:
    meter = Meter()
    _ACTIVE.append(meter)
    try:
        yield meter
    finally:
        _ACTIVE.remove(meter)
