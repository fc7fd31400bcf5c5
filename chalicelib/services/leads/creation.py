"""The one way a lead comes to be, whether from a form, a call or staff.

Every new lead gets its own data key, its identifiers marked ``given``, and the tenant's lead
retention from the moment it is made; the caller decides only what the person gave and why.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from chalicelib.services.tenants.tenancy import Tenant, expiry
from chalicelib.store import leads
from chalicelib.store.leads import NewLead


def new_lead_id() -> str:
    return "led_" + secrets.token_hex(10)


def start_lead(
    tenant: Tenant,
    lead_id: str,
    profile: dict[str, Any],
    *,
    refs: dict[str, str],
    source: str,
    lawful_basis: str,
    now: datetime,
    consents: dict[str, bool] | None = None,
    first_submission: dict[str, Any] | None = None,
    idempotency_pk: str | None = None,
    confirm_refs: set[str] | None = None,
    suppressed: bool = False,
    last_contacted_at: datetime | None = None,
    assigned_agent: str | None = None,
) -> NewLead:
    """An unsaved lead with its data key; the caller writes it with its claims and events."""
    return leads.new_lead(
        tenant.tenant_id, lead_id, profile,
        refs=refs, identity={kind: "given" for kind in refs}, source=source, lawful_basis=lawful_basis,
        consents=consents or {}, first_submission=first_submission or {}, now=now,
        expires_at=expiry(tenant, "leads", now), idempotency_pk=idempotency_pk, confirm_refs=confirm_refs,
        suppressed=suppressed, last_contacted_at=last_contacted_at, assigned_agent=assigned_agent,
    )
