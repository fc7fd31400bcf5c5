"""Audit trail writer: one record per read or change of personal data, holding none itself.

What is audited and for how long is decided here; how records are keyed and sharded is
:mod:`chalicelib.store.audit`'s business.
"""

from __future__ import annotations

from chalicelib import clock
from chalicelib.services.tenants.tenancy import Tenant, expiry, require_tenant
from chalicelib.store.audit import AuditEntry, add, new_entry, of_day

OPERATOR = "operator"


def record(tenant: Tenant | str, actor_key_id: str, action: str, object_id: str | None = None) -> AuditEntry:
    """Write one audit record. ``object_id`` is an id we minted, never a person's identifier."""
    entry = build(tenant, actor_key_id, action, object_id)
    add(entry)
    return entry


def build(tenant: Tenant | str, actor_key_id: str, action: str, object_id: str | None = None) -> AuditEntry:
    """An unsaved audit record, for callers that batch it with their own writes.

    ``tenant`` is the tenant the action concerns, which sets how long the record is kept (an id is
    looked up in the invocation's cache; callers holding the tenant pass it).
    """
    if isinstance(tenant, str):
        tenant = require_tenant(tenant)
    at = clock.now()
    return new_entry(tenant.tenant_id, actor_key_id, action, object_id, at, expiry(tenant, "audit", at))


def records_for_day(tenant_id: str, day: str) -> list[AuditEntry]:
    """Every audit record of one tenant on one UTC day (``YYYY-MM-DD``), oldest first."""
    return of_day(tenant_id, day)
