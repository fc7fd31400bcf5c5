"""Budget counters: one conditional ADD per counter, several counters (and one claim) in one call.

A counter is an item of ``unique_keys`` per scope and time window. Each request that spends a
budget adds one to every counter it touches, in a single ``TransactWriteItems`` whose conditions
say "still under the limit". Either every counter moves or none does, so a refused request spends
nothing, and there is never a read before the write. An intake may ride its identity claim in the
same transaction, which keeps a new lead at two write calls.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.store.batch import _client
from chalicelib.store.models.claims import ClaimRecord, RateCounterRecord

MAX_ATTEMPTS = 10


@dataclass(frozen=True)
class Counter:
    """One budget counter: its key, its limit within the window, and when the window ends."""

    pk: str
    limit: int
    window_ends: datetime


@dataclass(frozen=True)
class ClaimPut:
    """An identity claim put riding in the same transaction (the new-lead path)."""

    record: ClaimRecord
    free_unless_owned_by: str | None = None  # a stale owner whose claim may be taken over


class Refused(Exception):
    """A condition failed: ``counters`` lists the spent ones; none spent means the claim lost its race."""

    def __init__(self, counters: list[Counter]) -> None:
        super().__init__("refused")
        self.counters = counters


class Contended(Exception):
    """Concurrent transactions kept conflicting on the same counters: nothing was spent; try again shortly."""


def _counter_update(table: str, counter: Counter) -> dict[str, Any]:
    return {"Update": {
        "TableName": table,
        "Key": {"pk": {"S": counter.pk}},
        "UpdateExpression": "ADD #count :one SET #expires = if_not_exists(#expires, :expires)",
        "ConditionExpression": "attribute_not_exists(#count) OR #count < :limit",
        "ExpressionAttributeNames": {"#count": "count", "#expires": "expires_at"},
        # Kept a day past its window, then TTL removes it.
        "ExpressionAttributeValues": {":one": {"N": "1"}, ":limit": {"N": str(counter.limit)},
                                      ":expires": {"N": str(int(counter.window_ends.timestamp()) + 86400)}},
    }}


def _claim_put(claim: ClaimPut) -> dict[str, Any]:
    put: dict[str, Any] = {"TableName": claim.record.Meta.table_name, "Item": claim.record.serialize(),
                           "ConditionExpression": "attribute_not_exists(#pk)",
                           "ExpressionAttributeNames": {"#pk": "pk"}}
    if claim.free_unless_owned_by:
        put["ConditionExpression"] += " OR #lead = :stale"
        put["ExpressionAttributeNames"]["#lead"] = "lead_id"
        put["ExpressionAttributeValues"] = {":stale": {"S": claim.free_unless_owned_by}}
    return {"Put": put}


def spend(counters: Sequence[Counter], claim: ClaimPut | None = None) -> None:
    """Add one to every counter (and put the claim) atomically, or raise :class:`Refused`."""
    if not counters:
        if claim is not None:
            _put_claim_alone(claim)
        return
    from botocore.exceptions import ClientError

    table = RateCounterRecord.Meta.table_name
    items = [_counter_update(table, counter) for counter in counters]
    if claim is not None:
        items.append(_claim_put(claim))
    for attempt in range(MAX_ATTEMPTS):
        try:
            _client().transact_write_items(TransactItems=items, ReturnConsumedCapacity="TOTAL")
            return
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = [reason.get("Code") for reason in error.response.get("CancellationReasons") or []]
            failed = [i for i, code in enumerate(reasons) if code == "ConditionalCheckFailed"]
            if failed:
                spent = [counters[i] for i in failed if i < len(counters)]
                raise Refused(spent) from None
            if attempt == MAX_ATTEMPTS - 1:
                raise Contended() from None
            # A conflict with a concurrent transaction on the same counter: try again shortly.
            time.sleep(min(0.5, 0.01 * 2**attempt) * random.uniform(0.2, 1.0))


def _put_claim_alone(claim: ClaimPut) -> None:
    """No budget to spend (a staff key): the claim is a plain conditional put, half a transaction's cost."""
    from botocore.exceptions import ClientError

    put = _claim_put(claim)["Put"]
    try:
        _client().put_item(**put, ReturnConsumedCapacity="TOTAL")
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise Refused([]) from None
        raise
