"""Timeline events of a lead: written by intake, calls, consents and updates; read newest first."""

from __future__ import annotations

from typing import Any

from chalicelib import clock
from chalicelib.services.leads import actors
from chalicelib.services.pagination import decode_cursor, encode_cursor
from chalicelib.store import field_work, leads, timeline
from chalicelib.store.field_work import Call
from chalicelib.store.leads import Lead
from chalicelib.store.timeline import Event
from chalicelib.vault.envelope import SubjectKey

# A timeline position: only the first submission is left to show.
FIRST_ONLY = "first-only"


def event_view(key: SubjectKey, event: Event) -> dict[str, Any]:
    """An event as the contract shows it; its personal values opened with its owner's key."""
    view: dict[str, Any] = {"event_id": event.event_id, "type": event.type, "at": clock.iso(event.at),
                            **actors.shown(event.type, timeline.info_of(event))}
    values = timeline.values_of(key, event)
    if values is not None:
        view["values"] = values
    return view


def read_timeline(lead: Lead, limit: int, cursor: str | None) -> dict[str, Any]:
    """One page of a lead's events and calls, newest first; the first submission closes the last page.

    Events and calls are two lists sorted alike (``"<time with microseconds>#<id>"``): each is read
    below the cursor's position and the two are merged. A page stops where either list may still
    hold unread items, so paging gives every item once; its position is the last item it took.
    """
    position = decode_cursor(cursor, "timeline")
    if position == FIRST_ONLY:
        return {"items": [first_submission_view(lead)], "next_cursor": None}
    before = position if isinstance(position, str) else None
    events, events_next = timeline.newest(lead.lead_id, limit, before)
    calls, calls_next = field_work.newest_of_lead(lead.lead_id, limit, before)
    # Below the last item read of a list that may hold more, nothing is known yet: the page stops there.
    horizon = max(filter(None, (events_next, calls_next)), default=None)
    entries: list[tuple[str, Event | Call]] = [(event.sort_key, event) for event in events]
    entries += [(field_work.position_of(call), call) for call in calls]
    entries.sort(key=lambda entry: entry[0], reverse=True)
    shown_as_calls = _legacy_calls_stored(lead.tenant_id, events)
    key = leads.key_of(lead)
    items: list[dict[str, Any]] = []
    last, taken = None, 0
    for sort, entry in entries:
        if len(items) == limit or (horizon is not None and sort < horizon):
            break
        last, taken = sort, taken + 1
        if isinstance(entry, Call):
            items.append(call_view(entry))
        elif _legacy_call(entry) not in shown_as_calls:
            items.append(event_view(key, entry))
    if horizon is not None or taken < len(entries):
        return {"items": items, "next_cursor": encode_cursor("timeline", last)}
    if len(items) < limit:
        return {"items": [*items, first_submission_view(lead)], "next_cursor": None}
    return {"items": items, "next_cursor": encode_cursor("timeline", FIRST_ONLY)}


def is_position(position: object) -> bool:
    """Whether a timeline cursor's position is one :func:`read_timeline` gives out."""
    return position == FIRST_ONLY or field_work.is_call_position(position)


def call_view(call: Call) -> dict[str, Any]:
    """A call as a timeline event (the shape ``call`` events had when calls were also written as events)."""
    return {"event_id": f"call:{call.agent_id}:{call.client_event_id}", "type": "call",
            "at": clock.iso(call.started_at), "call_id": call.client_event_id, "agent_id": call.agent_id,
            "direction": call.direction, "status": call.status, "duration_s": int(call.duration_s)}


def _legacy_call(event: Event) -> tuple[str, str] | None:
    """The ``(agent_id, call_id)`` a ``call`` event stands for (such events were written until calls got
    their index by lead)."""
    info = timeline.info_of(event)
    if event.type != "call" or not info.get("agent_id") or not info.get("call_id"):
        return None
    return str(info["agent_id"]), str(info["call_id"])


def _legacy_calls_stored(tenant_id: str, events: list[Event]) -> set[tuple[str, str]]:
    """The calls of these old ``call`` events that the calls list shows too, so each shows once.

    Decided per call, not per page, so a call and its old event on two pages still show once; costs
    one read, and only on pages holding old ``call`` events.
    """
    pairs = [pair for pair in map(_legacy_call, events) if pair is not None]
    return field_work.stored_pairs(tenant_id, pairs) if pairs else set()


def first_submission_view(lead: Lead) -> dict[str, Any]:
    context = leads.first_submission_of(lead)
    return {"event_id": f"first-{lead.lead_id}", "type": "submission", "at": clock.iso(lead.created_at),
            "source": lead.source, "first": True, **context}
