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
from chalicelib.store.models.calls import CallRecord
from chalicelib.store.models.leads import LeadRecord
from chalicelib.store.models.shifts import agent_key
from chalicelib.vault import envelope
from chalicelib.vault.envelope import SubjectKeyMissing

AGENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
POSITION = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z#[A-Za-z0-9._:\-]{1,128}$")


def _agent(agent_id: str) -> str:
    if not AGENT_ID.match(agent_id):
        raise NotFound("No such agent.")
    return agent_id


def agent_shifts(caller: Caller, agent_id: str, limit: int) -> dict[str, Any]:
    items = list_shifts(caller.tenant_id, _agent(agent_id), limit)
    audit.record(caller.tenant_id, caller.key_id, "agent.shifts.read", agent_id)
    return {"items": items, "next_cursor": None}


def agent_calls(caller: Caller, agent_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    """The agent's calls with the other party's number opened under its lead's key."""
    key = agent_key(caller.tenant_id, _agent(agent_id))
    position = decode_cursor(cursor, "calls")
    if position is not None and not (isinstance(position, str) and POSITION.match(position)):
        raise ValidationFailed(details=[{"field": "cursor", "problem": "not a cursor this list gave out"}])
    start = None
    if position:
        start = {"agent_key": {"S": key}, "started_sort": {"S": position},
                 "client_event_id": {"S": position.split("#", 1)[1]}}
    now = clock.now()
    query = CallRecord.by_time.query(key, scan_index_forward=False, limit=limit, last_evaluated_key=start,
                                     filter_condition=CallRecord.expires_at.does_not_exist()
                                     | (CallRecord.expires_at > now))
    calls = list(query)
    leads = {lead.lead_id: lead for lead in LeadRecord.batch_get(sorted({c.lead_id for c in calls}))} if calls else {}
    items = [_call_view(call, leads.get(call.lead_id)) for call in calls]
    audit.record(caller.tenant_id, caller.key_id, "agent.calls.read", agent_id)
    next_cursor = encode_cursor("calls", calls[-1].started_sort) if query.last_evaluated_key and calls else None
    return {"items": items, "next_cursor": next_cursor}


def _call_view(call: CallRecord, lead: LeadRecord | None) -> dict[str, Any]:
    number = None
    if lead is not None and lead.wrapped_key:
        envelope.adopt_key(call.tenant_id, lead.lead_id, lead.wrapped_key)
        try:
            number = envelope.unseal(call.tenant_id, call.lead_id, f"call:{call.client_event_id}", call.number_sealed)
        except SubjectKeyMissing:
            number = None
    return {"client_event_id": call.client_event_id, "lead_id": call.lead_id, "number": number,
            "direction": call.direction, "status": call.status, "started_at": clock.iso(call.started_at),
            "duration_s": int(call.duration_s)}
