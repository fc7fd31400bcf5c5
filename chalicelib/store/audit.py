"""The audit repository: one record per action, spread over a few partitions per tenant and day.

A busy day of one tenant would make one partition hot, so each record lands in a random shard
of its day; reading or deleting a day reads every shard. Records hold ids, never personal data.
"""

from __future__ import annotations

import random
import re
import secrets
from datetime import date, datetime
from typing import Any

from chalicelib import clock
from chalicelib.store.batch import write_all
from chalicelib.store.models.audit import AUDIT_SHARDS, AuditRecord

# What services hold: an audit record as written or read.
AuditEntry = AuditRecord


def _day_partition(tenant_id: str, day: date | str, shard: int) -> str:
    stamp = day if isinstance(day, str) else f"{day:%Y-%m-%d}"
    return f"{tenant_id}#{stamp}#{shard}"


def new_entry(tenant_id: str, actor_key_id: str, action: str, object_id: str | None, at: datetime,
              expires_at: datetime) -> AuditEntry:
    """An unsaved record, for a batch (or for :func:`add`)."""
    audit_id = "aud_" + secrets.token_hex(10)
    return AuditRecord(
        _day_partition(tenant_id, at.date(), random.randrange(AUDIT_SHARDS)),
        f"{clock.sort_stamp(at)}#{audit_id}",
        audit_id=audit_id,
        tenant_id=tenant_id,
        actor_key_id=actor_key_id,
        action=action,
        object_id=object_id,
        at=at,
        expires_at=expires_at,
    )


def add(entry: AuditEntry) -> None:
    """Write one record on its own (one put)."""
    entry.save()


def _entries_of_day(tenant_id: str, day: date | str) -> list[AuditEntry]:
    partitions = [_day_partition(tenant_id, day, shard) for shard in range(AUDIT_SHARDS)]
    return [entry for partition in partitions for entry in AuditRecord.query(partition)]


def of_day(tenant_id: str, day: date | str) -> list[AuditEntry]:
    """Every record of one tenant on one UTC day (a date or ``YYYY-MM-DD``), oldest first."""
    return sorted(_entries_of_day(tenant_id, day), key=lambda entry: entry.sort_key)


def delete_day(tenant_id: str, day: date) -> int:
    """Delete every record of one tenant on one UTC day; returns how many there were."""
    doomed = _entries_of_day(tenant_id, day)
    write_all(deletes=doomed)
    return len(doomed)


# --- reading a tenant's log, newest first -------------------------------------------------
#
# A day's records are spread over its shards, each ordered by time: a page reads each shard of the day
# from where it got to (newest first, the filters inside each query) and merges them. Where each shard
# got to is the list's position: a sort key, None (not started), or DONE (read to its end).

DONE = "-"
POSITION = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z#aud_[0-9a-f]{20}$")


def is_position(value: object) -> bool:
    """Whether a shard position from a cursor is one :func:`day_page` gives out."""
    return value is None or value == DONE or (isinstance(value, str) and bool(POSITION.match(value)))


def _shard_page(tenant_id: str, day: str, shard: int, limit: int, after: str | None,
                condition: Any) -> tuple[list[AuditEntry], bool]:
    """Up to ``limit`` records of one shard after ``after``, newest first; and whether it may hold more."""
    partition = _day_partition(tenant_id, day, shard)
    start = {"partition": {"S": partition}, "sort_key": {"S": after}} if after else None
    query = AuditRecord.query(partition, scan_index_forward=False, limit=limit, page_size=limit,
                              last_evaluated_key=start, filter_condition=condition)
    items = list(query)
    return items, query.last_evaluated_key is not None


def day_page(tenant_id: str, day: str, positions: list[str | None], limit: int, actor: str | None,
             action: str | None) -> tuple[list[AuditEntry], list[str | None]]:
    """Up to ``limit`` of a day's records newest first, from each shard's position; and the positions after
    them (every shard ``DONE``: the day is read). One query per shard not yet read to its end."""
    condition = None
    if actor is not None:
        condition = AuditRecord.actor_key_id == actor
    if action is not None:
        condition = AuditRecord.action == action if condition is None else condition & (AuditRecord.action == action)
    fetched: list[tuple[int, AuditEntry]] = []
    more: dict[int, bool] = {}
    for shard, position in enumerate(positions):
        if position != DONE:
            items, more[shard] = _shard_page(tenant_id, day, shard, limit, position, condition)
            fetched += [(shard, item) for item in items]
    fetched.sort(key=lambda pair: str(pair[1].sort_key), reverse=True)
    taken, left = fetched[:limit], fetched[limit:]
    after = list(positions)
    for shard, entry in taken:
        after[shard] = str(entry.sort_key)
    for shard, has_more in more.items():
        if not has_more and not any(pair[0] == shard for pair in left):
            after[shard] = DONE
    return [entry for _, entry in taken], after
