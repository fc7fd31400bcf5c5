"""Reading leads: one, a page of them, or a timeline. Every read of personal data is audited."""

from __future__ import annotations

import re
from typing import Any

from chalicelib import clock
from chalicelib.errors import NotFound, ValidationFailed
from chalicelib.services import audit
from chalicelib.services.access.auth import Caller
from chalicelib.services.leads.timeline import is_position, read_timeline
from chalicelib.services.pagination import decode_cursor
from chalicelib.store import leads
from chalicelib.store.leads import Lead

LEAD_ID = re.compile(r"^led_[0-9a-f]{20}$")


def visible_lead(caller: Caller, lead_id: str) -> Lead:
    """The lead if this caller may see it; anything else, including another tenant's, is ``not_found``."""
    lead = leads.live(caller.tenant_id, lead_id) if LEAD_ID.match(lead_id or "") else None
    if lead is None:
        raise NotFound("No such lead.")
    if caller.role == "agent" and lead.assigned_agent != caller.agent_id:
        raise NotFound("No such lead.")
    return lead


def lead_view(lead: Lead) -> dict[str, Any]:
    """The lead with its personal fields opened."""
    values = leads.open_profile(lead)
    consents = leads.consents_of(lead)
    return {
        "lead_id": lead.lead_id,
        "name": values.get("name"),
        "phone": values.get("phone"),
        "email": values.get("email"),
        "fields": values.get("fields", {}),
        "utm": values.get("utm", {}),
        "source": lead.source,
        "stage": lead.stage,
        "assigned_agent": lead.assigned_agent,
        "consents": consents,
        "identity": leads.identity_of(lead),
        "pending_identifiers": [{"kind": kind, "value": item["value"], "asserted_at": item["at"]}
                                for kind, item in sorted((values.get("pending") or {}).items())],
        "lawful_basis": lead.lawful_basis,
        "created_at": clock.iso(lead.created_at),
        "updated_at": clock.iso(lead.updated_at),
        "last_activity_at": clock.iso(lead.last_activity_at),
        "last_contacted_at": clock.iso(lead.last_contacted_at) if lead.last_contacted_at else None,
        "expires_at": clock.iso(lead.expires_at) if lead.expires_at else None,
        "legal_hold": bool(lead.legal_hold),
    }


def get_lead(caller: Caller, lead_id: str) -> dict[str, Any]:
    lead = visible_lead(caller, lead_id)
    view = lead_view(lead)
    audit.record(caller.tenant_id, caller.key_id, "lead.read", lead.lead_id)
    return view


def get_timeline(caller: Caller, lead_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    lead = visible_lead(caller, lead_id)
    position = decode_cursor(cursor, "timeline")
    if position is not None and not is_position(position):
        raise ValidationFailed(details=[{"field": "cursor", "problem": "not a cursor this list gave out"}])
    page = read_timeline(lead, limit, cursor)
    audit.record(caller.tenant_id, caller.key_id, "lead.timeline.read", lead.lead_id)
    return page


def list_leads(caller: Caller, query: dict[str, str], limit: int, cursor: str | None) -> dict[str, Any]:
    """Admins page through every lead of the tenant, agents through those assigned to them; filtered,
    newest activity first."""
    from chalicelib.services.leads import listing

    search = listing.parse_search(caller, query)
    found, next_cursor, _ = listing.page(caller, search, limit, cursor)
    items = [lead_view(lead) for lead in found]
    audit.record(caller.tenant_id, caller.key_id, "lead.list", None)
    return {"items": items, "next_cursor": next_cursor}


def search_leads(caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """The one lead an exact phone or e-mail identifies (through its blind index), within the caller's
    leads and the filters given: a page of zero or one."""
    from chalicelib.services.leads import listing
    from chalicelib.services.validation import parse_input

    data = parse_input(listing.LeadSearchInput, body)
    search = listing.parse_search(caller, data.model_dump(exclude_none=True), body=True)
    found = listing.find(caller, search)
    items = [lead_view(lead) for lead in found]
    audit.record(caller.tenant_id, caller.key_id, "lead.search", found[0].lead_id if found else None)
    return {"items": items, "next_cursor": None}
