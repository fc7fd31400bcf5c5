"""Events for the tenant's other systems, built for the write that makes the change.

Every use case that changes something a tenant's CRM, dialer or sheet cares about puts one of these
into its own transaction or batch: no change without its event, no event without its change. Events
are kept as long as the tenant's audit trail.
"""

from __future__ import annotations

from typing import Any

from chalicelib import clock
from chalicelib.services.tenants.tenancy import Tenant, expiry, require_tenant
from chalicelib.store import consents, events
from chalicelib.store.events import Event


def build(tenant: Tenant | str, event_type: str, data: dict[str, Any], *, once_for: str | None = None) -> Event:
    """An unsaved event of the tenant (an id is looked up in the invocation's cache)."""
    if isinstance(tenant, str):
        tenant = require_tenant(tenant)
    now = clock.now()
    return events.new_event(tenant.tenant_id, event_type, data, now, expiry(tenant, "audit", now), once_for=once_for)


def consent_changed(tenant: Tenant, owner: str, purposes: list[str], source: str | None) -> Event | None:
    """``consent.changed`` for a ledger entry of a lead that holds now; None for a subject ledger.

    A subject ledger (no lead holds the person) is named by a keyed hash of their e-mail or phone: a stable
    pseudonym that must not leave for other systems nor outlive an erasure in the log. Such a person is
    nothing a tenant's other systems hold yet, so there is nothing for them to hear.
    """
    if consents.subject_of(owner) is not None:
        return None
    return build(tenant, "consent.changed", {"lead_id": owner, "purposes": sorted(purposes), "source": source})
