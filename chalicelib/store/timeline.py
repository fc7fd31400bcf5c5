"""The timeline repository: a person's events, newest first (submissions, consents, stage changes,
notices, identity); the consent ledger is its ``consent`` events.

An event's owner is a lead, or a *subject* (a person with a ledger but no lead); its personal
values are sealed under the owner's key, which the caller passes in as a :class:`SubjectKey`.
A policy notice's event is its record in the notice ledger, written by :mod:`chalicelib.store.policies`.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from chalicelib import clock
from chalicelib.store.base import plain
from chalicelib.store.batch import BATCH_WRITE_LIMIT, write_all
from chalicelib.store.models.timeline import TimelineRecord
from chalicelib.vault.envelope import SubjectKey

Event = TimelineRecord


def new_event(
    key: SubjectKey,
    event_type: str,
    at: datetime,
    expires_at: datetime | None,
    *,
    info: dict[str, Any] | None = None,
    sealed_values: dict[str, Any] | None = None,
    actor_key_id: str | None = None,
) -> Event:
    """An unsaved event of the key's subject; personal values are sealed under that key, facts stay readable."""
    event_id = "evt_" + secrets.token_hex(10)
    sealed = key.seal(f"event:{event_id}", json.dumps(sealed_values)) if sealed_values else None
    return TimelineRecord(
        key.subject_id,
        f"{clock.sort_stamp(at)}#{event_id}",
        event_id=event_id,
        tenant_id=key.tenant_id,
        type=event_type,
        at=at,
        actor_key_id=actor_key_id,
        info=info or {},
        sealed=sealed,
        expires_at=expires_at,
    )


def info_of(event: Event) -> dict[str, Any]:
    return plain(event.info)


def values_of(key: SubjectKey, event: Event) -> dict[str, Any] | None:
    """The event's sealed personal values, opened with its owner's key (None when it has none)."""
    if not event.sealed:
        return None
    return json.loads(key.unseal(f"event:{event.event_id}", event.sealed))


def newest(owner: str, limit: int, before: str | None) -> tuple[list[Event], str | None]:
    """One page of an owner's unexpired events, newest first, and the position after it (None at the end)."""
    now = clock.now()
    start = {"owner": {"S": owner}, "sort_key": {"S": before}} if before else None
    query = TimelineRecord.query(
        owner,
        scan_index_forward=False,
        limit=limit,
        last_evaluated_key=start,
        filter_condition=TimelineRecord.expires_at.does_not_exist() | (TimelineRecord.expires_at > now),
    )
    events = list(query)
    return events, (events[-1].sort_key if query.last_evaluated_key and events else None)


def of_owner(owner: str) -> Iterator[Event]:
    """Every event of an owner, oldest first (strongly consistent)."""
    return TimelineRecord.query(owner, consistent_read=True)


def consents_of(owner: str) -> list[Event]:
    """The owner's consent ledger, oldest first."""
    return list(TimelineRecord.query(owner, filter_condition=TimelineRecord.type == "consent"))


def delete_some(owner: str) -> list[Event]:
    """Delete up to a few batches of an owner's events; returns what was deleted (none: all gone)."""
    page = list(TimelineRecord.query(owner, limit=BATCH_WRITE_LIMIT * 4, consistent_read=True))
    if page:
        write_all(deletes=page)
    return page
