"""Reading leads: one, a page of them, or a timeline. Every read of personal data is audited."""

from __future__ import annotations

import re
from typing import Any

from chalicelib import clock
from chalicelib.errors import NotFound, ValidationFailed
from chalicelib.services import audit
from chalicelib.services.access.auth import Caller
from chalicelib.services.leads.timeline import is_position, read_timeline
from chalicelib.services.pagination import decode_cursor, encode_cursor
from chalicelib.store import leads
from chalicelib.store.leads import LIST_SHARDS, Lead

LEAD_ID = re.compile(r"^led_[0-9a-f]{20}$")
LIST_POSITION = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z#led_[0-9a-f]{20}$")
DONE = "done"


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


def list_leads(caller: Caller, limit: int, cursor: str | None) -> dict[str, Any]:
    """Admins page through every lead of the tenant, agents through those assigned to them."""
    if caller.role == "agent":
        page, next_position = _agent_page(caller, limit, _position(decode_cursor(cursor, "agent")))
        next_cursor = encode_cursor("agent", next_position) if next_position else None
    else:
        positions = _positions(decode_cursor(cursor, "tenant"))
        page, positions = _tenant_page(caller, limit, positions)
        next_cursor = None if all(p == DONE for p in positions.values()) else encode_cursor("tenant", positions)
    items = [lead_view(lead) for lead in page]
    audit.record(caller.tenant_id, caller.key_id, "lead.list", None)
    return {"items": items, "next_cursor": next_cursor}


def _position(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and LIST_POSITION.match(value):
        return value
    raise ValidationFailed(details=[{"field": "cursor", "problem": "not a cursor this list gave out"}])


def _positions(value: Any) -> dict[str, str | None]:
    if value is None:
        return {str(shard): None for shard in range(LIST_SHARDS)}
    if not isinstance(value, dict) or set(value) != {str(shard) for shard in range(LIST_SHARDS)}:
        raise ValidationFailed(details=[{"field": "cursor", "problem": "not a cursor this list gave out"}])
    return {shard: (DONE if position == DONE else _position(position)) for shard, position in value.items()}


def _agent_page(caller: Caller, limit: int, position: str | None) -> tuple[list[Lead], str | None]:
    return leads.newest_of_agent(caller.tenant_id, str(caller.agent_id), limit, position)


def _tenant_page(
    caller: Caller, limit: int, positions: dict[str, str | None]
) -> tuple[list[Lead], dict[str, str | None]]:
    """Merge the newest ``limit`` leads of every shard; each shard resumes after what it gave."""
    candidates: list[tuple[str, str, Lead]] = []
    exhausted: dict[str, bool] = {}
    for shard, position in positions.items():
        if position == DONE:
            continue
        page, exhausted[shard] = leads.newest_of_shard(caller.tenant_id, shard, limit, position)
        candidates += [(leads.position_of(lead), shard, lead) for lead in page]
    candidates.sort(key=lambda entry: entry[0], reverse=True)
    taken = candidates[:limit]
    new_positions = dict(positions)
    for shard in exhausted:
        from_shard = [entry for entry in taken if entry[1] == shard]
        left_behind = any(entry[1] == shard for entry in candidates[limit:])
        if from_shard:
            new_positions[shard] = from_shard[-1][0]
        if exhausted[shard] and not left_behind:
            new_positions[shard] = DONE
    return [entry[2] for entry in taken], new_positions
