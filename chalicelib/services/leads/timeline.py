"""Timeline events of a lead: written by intake, calls, consents and updates; read newest first."""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from chalicelib import clock
from chalicelib.services.pagination import decode_cursor, encode_cursor
from chalicelib.store.base import plain
from chalicelib.store.models.leads import LeadRecord
from chalicelib.store.models.timeline import TimelineRecord
from chalicelib.vault import envelope

TYPES = ("submission", "call", "consent", "stage_change", "notice", "identity")


def new_event(
    tenant_id: str,
    owner: str,
    event_type: str,
    at: datetime,
    expires_at: datetime | None,
    *,
    info: dict[str, Any] | None = None,
    sealed_values: dict[str, Any] | None = None,
    actor_key_id: str | None = None,
) -> TimelineRecord:
    """An unsaved event; personal values are sealed under the owner's key, facts stay readable."""
    event_id = "evt_" + secrets.token_hex(10)
    sealed = None
    if sealed_values:
        sealed = envelope.seal(tenant_id, owner, f"event:{event_id}", json.dumps(sealed_values))
    return TimelineRecord(
        owner,
        f"{clock.sort_stamp(at)}#{event_id}",
        event_id=event_id,
        tenant_id=tenant_id,
        type=event_type,
        at=at,
        actor_key_id=actor_key_id,
        info=info or {},
        sealed=sealed,
        expires_at=expires_at,
    )


def event_view(tenant_id: str, event: TimelineRecord) -> dict[str, Any]:
    info = plain(event.info)
    view: dict[str, Any] = {"event_id": event.event_id, "type": event.type, "at": clock.iso(event.at), **info}
    if event.sealed:
        view["values"] = json.loads(envelope.unseal(tenant_id, event.owner, f"event:{event.event_id}", event.sealed))
    return view


def read_timeline(lead: LeadRecord, limit: int, cursor: str | None) -> dict[str, Any]:
    """One page of a lead's events, newest first; the first submission closes the last page."""
    now = clock.now()
    position = decode_cursor(cursor, "timeline")
    start = {"owner": {"S": lead.lead_id}, "sort_key": {"S": position}} if isinstance(position, str) else None
    query = TimelineRecord.query(
        lead.lead_id,
        scan_index_forward=False,
        limit=limit,
        last_evaluated_key=start,
        filter_condition=TimelineRecord.expires_at.does_not_exist() | (TimelineRecord.expires_at > now),
    )
    events = list(query)
    items = [event_view(lead.tenant_id, event) for event in events]
    last_key = query.last_evaluated_key
    if last_key is None and position != "first-only" and len(items) < limit:
        items.append(first_submission_view(lead))
        next_cursor = None
    elif last_key is None:
        next_cursor = encode_cursor("timeline", "first-only") if position != "first-only" else None
    else:
        next_cursor = encode_cursor("timeline", events[-1].sort_key)
    return {"items": items, "next_cursor": next_cursor}


def first_submission_view(lead: LeadRecord) -> dict[str, Any]:
    context = plain(lead.first_submission)
    return {"event_id": f"first-{lead.lead_id}", "type": "submission", "at": clock.iso(lead.created_at),
            "source": lead.source, "first": True, **context}
