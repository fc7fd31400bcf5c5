"""Audit trail writer: one record per read or change of personal data, holding none itself."""

from __future__ import annotations

import random
import secrets
from datetime import timedelta

from chalicelib import clock
from chalicelib.store.models.audit import AUDIT_SHARDS, AuditRecord

DEFAULT_AUDIT_DAYS = 365
OPERATOR = "operator"


def record(tenant_id: str, actor_key_id: str, action: str, object_id: str | None = None) -> AuditRecord:
    """Write one audit record. ``object_id`` is an id we minted, never a person's identifier."""
    item = build(tenant_id, actor_key_id, action, object_id)
    item.save()
    return item


def build(tenant_id: str, actor_key_id: str, action: str, object_id: str | None = None) -> AuditRecord:
    """An unsaved audit record, for callers that batch it with their own writes."""
    from chalicelib.services.tenants.tenancy import retention_days

    at = clock.now()
    audit_id = "aud_" + secrets.token_hex(10)
    return AuditRecord(
        f"{tenant_id}#{at:%Y-%m-%d}#{random.randrange(AUDIT_SHARDS)}",
        f"{clock.sort_stamp(at)}#{audit_id}",
        audit_id=audit_id,
        tenant_id=tenant_id,
        actor_key_id=actor_key_id,
        action=action,
        object_id=object_id,
        at=at,
        expires_at=at + timedelta(days=retention_days(tenant_id, "audit")),
    )


def records_for_day(tenant_id: str, day: str) -> list[AuditRecord]:
    """Every audit record of one tenant on one UTC day (``YYYY-MM-DD``), oldest first."""
    items: list[AuditRecord] = []
    for shard in range(AUDIT_SHARDS):
        items.extend(AuditRecord.query(f"{tenant_id}#{day}#{shard}"))
    return sorted(items, key=lambda item: item.sort_key)
