"""The event log repository: events are built here and written by the use case, in the same write as
the change they report (its transaction, or its batch retried until every item lands).

An event names what changed by ids, types, times and changed field *names*; it never holds a value of
a person, so a copy of it (the stream, a receiver's log) reveals nothing. Each type's ``data`` keys are
fixed below and anything else is refused when the event is built, before anything is written.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from chalicelib import clock
from chalicelib.store.models.events import EventRecord

Event = EventRecord
EVENT_ID_PREFIX = "evt_"

# Each type and the only keys its ``data`` may carry.
CATALOGUE: dict[str, frozenset[str]] = {
    "lead.created": frozenset({"lead_id", "source"}),
    "lead.merged": frozenset({"lead_id", "changed"}),
    "lead.updated": frozenset({"lead_id", "changed"}),
    "call.stored": frozenset({"agent_id", "calls", "lead_ids"}),
    "consent.changed": frozenset({"lead_id", "purposes", "source"}),  # a lead's only: never a subject ledger
    "privacy.request_completed": frozenset({"request_id", "request_type", "receipt"}),
    "lead.erased": frozenset({"lead_id", "reason"}),
    "policy.published": frozenset({"policy_id", "version", "scope"}),
}
TYPES = tuple(CATALOGUE)


def event_id_for(tenant_id: str, event_type: str, once_for: str) -> str:
    """The id of the one event of this type about ``once_for`` (an id we minted): a rerun of a change that
    may run twice (an erasure's last step, a publication) writes the same event again, not a second one."""
    digest = hashlib.sha256(f"{tenant_id}#{event_type}#{once_for}".encode()).hexdigest()
    return EVENT_ID_PREFIX + digest[:32]


def new_event(
    tenant_id: str, event_type: str, data: dict[str, Any], now: datetime, expires_at: datetime,
    *, once_for: str | None = None,
) -> Event:
    """An unsaved event, for the write that makes the change. ``once_for``: see :func:`event_id_for`."""
    allowed = CATALOGUE.get(event_type)
    if allowed is None:
        raise ValueError(f"unknown event type {event_type!r}")
    if set(data) - allowed:
        raise ValueError(f"{event_type} carries only {sorted(allowed)}, not {sorted(set(data) - allowed)}")
    event_id = event_id_for(tenant_id, event_type, once_for) if once_for else \
        EVENT_ID_PREFIX + secrets.token_hex(16)
    return EventRecord(
        event_id,
        tenant_id=tenant_id,
        type=event_type,
        created_at=now,
        created_sort=f"{clock.sort_stamp(now)}#{event_id}",
        data={name: value for name, value in data.items() if value is not None},
        expires_at=expires_at,
    )


def is_written(event_id: str) -> bool:
    """Whether this event was written (one strongly consistent read)."""
    try:
        EventRecord.get(event_id, consistent_read=True)
    except EventRecord.DoesNotExist:
        return False
    return True


def view(event: Event) -> dict[str, Any]:
    """The event as receivers get it: ``{"id", "type", "created_at", "tenant_id", "data"}``."""
    data = event.data.as_dict() if hasattr(event.data, "as_dict") else dict(event.data or {})
    return {"id": event.event_id, "type": event.type, "created_at": clock.iso(event.created_at),
            "tenant_id": event.tenant_id, "data": data}


def from_stream_image(image: dict[str, Any]) -> Event:
    """An event from a stream record's ``NewImage`` (DynamoDB's typed JSON)."""
    return EventRecord.from_raw_data(image)


def recent(tenant_id: str, limit: int) -> Iterator[Event]:
    """The tenant's newest unexpired events, newest first (the ``by_tenant`` index; eventually consistent)."""
    return EventRecord.by_tenant.query(tenant_id, scan_index_forward=False, limit=limit,
                                       filter_condition=EventRecord.expires_at > clock.now())
