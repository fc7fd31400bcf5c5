"""The audit repository: one record per action, spread over a few partitions per tenant and day.

A busy day of one tenant would make one partition hot, so each record lands in a random shard
of its day; reading or deleting a day reads every shard. Records hold ids, never personal data.
"""

from __future__ import annotations

import random
import secrets
from datetime import date, datetime

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
