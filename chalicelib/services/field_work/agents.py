"""Admins' view of one agent's field work: shifts and calls, newest first. Audited."""

from __future__ import annotations

import re
from typing import Any

from chalicelib import clock
from chalicelib.errors import NotFound, ValidationFailed
from chalicelib.services import audit
from chalicelib.services.access.auth import Caller
from chalicelib.services.field_work.shifts import list_shifts
from chalicelib.services.pagination import decode_cursor, encode_cursor
from chalicelib.services.tenants.tenancy import require_tenant
from chalicelib.store import field_work, leads
from chalicelib.store.field_work import Call
from chalicelib.store.leads import Lead

AGENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _agent(agent_id: str) -> str:
    if not AGENT_ID.match(agent_id):
        raise NotFound("No such agent.")
    return agent_id


def agent_shifts(caller: Caller, agent_id: str, limit: int) -> dict[str, Any]:
    items = list_shifts(require_tenant(caller.tenant_id), _agent(agent_id), limit)
    audit.record(caller.tenant_id, caller.key_id, "agent.shifts.read", agent_id)
    return {"items": items, "next_cursor": None}


def agent_calls(caller: Caller, agent_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    """The agent's calls with the other party's number opened under its lead's key."""
    agent_id = _agent(agent_id)
    position = decode_cursor(cursor, "calls")
    if position is not None and not field_work.is_call_position(position):
        raise ValidationFailed(details=[{"field": "cursor", "problem": "not a cursor this list gave out"}])
    calls, next_position = field_work.newest_of_agent(caller.tenant_id, agent_id, limit, position)
    owners = leads.many(call.lead_id for call in calls)
    items = [_call_view(call, owners.get(call.lead_id)) for call in calls]
    audit.record(caller.tenant_id, caller.key_id, "agent.calls.read", agent_id)
    return {"items": items, "next_cursor": encode_cursor("calls", next_position) if next_position else None}


def _call_view(call: Call, lead: Lead | None) -> dict[str, Any]:
    """A call as the contract shows it; the number only while its lead's key exists (not erased)."""
    number = field_work.number_of(leads.key_of(lead), call) if lead is not None and lead.wrapped_key else None
    return {"client_event_id": call.client_event_id, "lead_id": call.lead_id, "number": number,
            "direction": call.direction, "status": call.status, "started_at": clock.iso(call.started_at),
            "duration_s": int(call.duration_s)}
