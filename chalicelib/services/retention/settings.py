"""Retention settings and legal holds (operator functions).

A retention change applies to every write from then on. Existing leads are re-dated by the next
``purge_expired`` run (expiry = last activity + the new days), which then purges any that the
new policy makes due; calls, consents and audit records keep the expiry they were written with.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StrictBool, StringConstraints, model_validator

from chalicelib import clock
from chalicelib.errors import AlreadyExpired, NotFound
from chalicelib.services import audit
from chalicelib.services.access.auth import Caller
from chalicelib.services.leads.reading import LEAD_ID, lead_view
from chalicelib.services.tenants.tenancy import Tenant, all_retention_days, require_tenant
from chalicelib.services.validation import StrictInput, field_error, parse_input
from chalicelib.store import leads, tenants
from chalicelib.store.leads import Lead

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
    current = all_retention_days(tenant)
    days = {**current, **data.days.model_dump(exclude_none=True)}
    # Existing leads are re-dated by the next purge (see chalicelib.services.retention.purge).
    tenants.set_retention(tenant, days, redate=days["leads"] != current["leads"])
    audit.record(tenant, audit.OPERATOR, "tenant.set_retention", data.tenant_id)
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


class LegalHoldRequest(StrictInput):
    """``PUT /v1/leads/{lead_id}/legal-hold``: the same rule as the operator function's payload."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"hold": True, "reason": "case 2026-114"}]})

    hold: StrictBool
    reason: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None

    @model_validator(mode="after")
    def _reason(self) -> LegalHoldRequest:
        if self.hold and not self.reason:
            raise field_error("reason", "a hold needs a reason (a case reference, not personal data)")
        return self


def legal_hold(payload: object) -> dict[str, Any]:
    """Suspend (or resume) a lead's retention clock and forbid its erasure while held."""
    data = parse_input(LegalHoldInput, payload)
    tenant = require_tenant(data.tenant_id)
    lead = set_hold(tenant, _lead(data.tenant_id, data.lead_id), data.on, data.reason, audit.OPERATOR)
    return {"lead_id": lead.lead_id, "on": data.on,
            "expires_at": clock.iso(lead.expires_at) if lead.expires_at else None}


def hold_lead(caller: Caller, lead_id: str, body: object) -> dict[str, Any]:
    """An admin holds or releases a lead through the API: the operator function's rules, audited under the key."""
    data = parse_input(LegalHoldRequest, body)
    tenant = require_tenant(caller.tenant_id)
    set_hold(tenant, _lead(caller.tenant_id, lead_id), data.hold, data.reason, caller.key_id)
    held = leads.get(lead_id)
    if held is None:  # erased in the instant since
        raise NotFound("No such lead.")
    return lead_view(held)


def set_hold(tenant: Tenant, lead: Lead, on: bool, reason: str | None, actor_key_id: str) -> Lead:
    """Hold (banking the retention left) or release (resuming it); holding a held lead, or releasing a free
    one, changes nothing but is still audited. ``lead`` reflects the change afterwards."""
    now = clock.now()
    if on and not lead.legal_hold:
        remaining = int((lead.expires_at - now).total_seconds()) if lead.expires_at else None
        if remaining is not None and remaining <= 0:
            raise AlreadyExpired()
        leads.hold(lead, str(reason), remaining)  # type: ignore[arg-type]
    elif not on and lead.legal_hold:
        leads.release_hold(lead, now + timedelta(seconds=int(lead.held_remaining_s or 0)))
    audit.record(tenant, actor_key_id, "lead.legal_hold." + ("on" if on else "off"), lead.lead_id)
    return lead


def _lead(tenant_id: str, lead_id: str) -> Lead:
    """The tenant's lead, live or held (a held lead may have passed its old expiry); else ``not_found``."""
    lead = leads.get(lead_id) if LEAD_ID.match(lead_id or "") else None
    if lead is None or lead.tenant_id != tenant_id or not (lead.legal_hold or leads.is_live(lead)):
        raise NotFound("No such lead.")
    return lead
