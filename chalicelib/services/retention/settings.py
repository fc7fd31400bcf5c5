"""Retention settings and legal holds (operator functions).

A retention change applies to every write from then on. Existing leads are re-dated by the next
``purge_expired`` run (expiry = last activity + the new days), which then purges any that the
new policy makes due; calls, consents and audit records keep the expiry they were written with.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from pydantic import Field, StrictBool, StringConstraints, model_validator

from chalicelib import clock
from chalicelib.errors import Conflict, NotFound
from chalicelib.services import audit
from chalicelib.services.leads.reading import LEAD_ID
from chalicelib.services.tenants.tenancy import DEFAULT_RETENTION_DAYS, require_tenant
from chalicelib.services.validation import StrictInput, parse_input
from chalicelib.store.base import plain
from chalicelib.store.models.leads import LeadRecord, list_key
from chalicelib.store.models.tenants import TenantRecord

MAX_DAYS = 3650
MIN_AUDIT_DAYS = 365

Days = Annotated[int, Field(ge=1, le=MAX_DAYS)]


class RetentionDays(StrictInput):
    leads: Days | None = None
    calls: Days | None = None
    consents: Days | None = None
    audit: Annotated[int, Field(ge=MIN_AUDIT_DAYS, le=MAX_DAYS)] | None = None

    @model_validator(mode="after")
    def _something(self) -> RetentionDays:
        if not self.model_dump(exclude_none=True):
            raise ValueError("give days for at least one of leads, calls, consents, audit")
        return self


class SetRetentionInput(StrictInput):
    tenant_id: str
    days: RetentionDays


def set_retention(payload: object) -> dict[str, Any]:
    data = parse_input(SetRetentionInput, payload)
    tenant = require_tenant(data.tenant_id)
    current = plain(tenant.retention_days)
    days = {**DEFAULT_RETENTION_DAYS, **current, **data.days.model_dump(exclude_none=True)}
    actions = [TenantRecord.retention_days.set(days)]
    if days["leads"] != {**DEFAULT_RETENTION_DAYS, **current}["leads"]:
        # Existing leads are re-dated by the next purge (see chalicelib.services.retention.purge).
        actions += [TenantRecord.redate_pending.set(True), TenantRecord.redate_positions.remove()]
    tenant.update(actions=actions)
    audit.record(data.tenant_id, audit.OPERATOR, "tenant.set_retention", data.tenant_id)
    return {"tenant_id": data.tenant_id, "days": days}


class LegalHoldInput(StrictInput):
    tenant_id: str
    lead_id: str
    on: StrictBool
    reason: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None

    @model_validator(mode="after")
    def _reason(self) -> LegalHoldInput:
        if self.on and not self.reason:
            raise ValueError("a hold needs a reason (a case reference, not personal data)")
        return self


def legal_hold(payload: object) -> dict[str, Any]:
    """Suspend (or resume) a lead's retention clock and forbid its erasure while held."""
    data = parse_input(LegalHoldInput, payload)
    require_tenant(data.tenant_id)
    lead = _lead(data.tenant_id, data.lead_id)
    now = clock.now()
    if data.on and not lead.legal_hold:
        remaining = int((lead.expires_at - now).total_seconds()) if lead.expires_at else None
        if remaining is not None and remaining <= 0:
            raise Conflict("The lead has already expired.", code="expired")
        lead.update(actions=[LeadRecord.legal_hold.set(True), LeadRecord.legal_hold_reason.set(data.reason),
                             LeadRecord.held_remaining_s.set(remaining), LeadRecord.expires_at.remove(),
                             LeadRecord.list_sk.set(list_key(lead.lead_id, None))])
    elif not data.on and lead.legal_hold:
        resumed = now + timedelta(seconds=int(lead.held_remaining_s or 0))
        lead.update(actions=[LeadRecord.legal_hold.remove(), LeadRecord.legal_hold_reason.remove(),
                             LeadRecord.held_remaining_s.remove(), LeadRecord.expires_at.set(resumed),
                             LeadRecord.list_sk.set(list_key(lead.lead_id, resumed))])
    audit.record(data.tenant_id, audit.OPERATOR, "lead.legal_hold." + ("on" if data.on else "off"), lead.lead_id)
    return {"lead_id": lead.lead_id, "on": data.on,
            "expires_at": clock.iso(lead.expires_at) if lead.expires_at else None}


def _lead(tenant_id: str, lead_id: str) -> LeadRecord:
    from chalicelib.services.leads.reading import is_live

    if not LEAD_ID.match(lead_id):
        raise NotFound("No such lead.")
    try:
        lead = LeadRecord.get(lead_id, consistent_read=True)
    except LeadRecord.DoesNotExist:
        raise NotFound("No such lead.") from None
    if lead.tenant_id != tenant_id or not (lead.legal_hold or is_live(lead)):
        raise NotFound("No such lead.")
    return lead
