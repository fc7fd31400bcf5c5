"""Punching in and out. A shift left open ends itself after the tenant's maximum length."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import Field
from pynamodb.exceptions import UpdateError

from chalicelib import clock
from chalicelib.errors import Conflict
from chalicelib.services.access.auth import Caller
from chalicelib.services.tenants.tenancy import require_tenant, retention_days
from chalicelib.services.validation import StrictInput, parse_input
from chalicelib.store.models.shifts import ShiftRecord, agent_key
from chalicelib.vault.minimise import round_location


class LocationInput(StrictInput):
    lat: Annotated[float, Field(ge=-90, le=90, strict=False)]
    lng: Annotated[float, Field(ge=-180, le=180, strict=False)]


class StartShiftInput(StrictInput):
    location: LocationInput | None = None


def max_shift(tenant_id: str) -> timedelta:
    return timedelta(hours=int(require_tenant(tenant_id).max_shift_hours or 12))


def effective_end(shift: ShiftRecord, limit: timedelta) -> datetime:
    """When the shift ends: its punch-out, or its start plus the maximum length."""
    return shift.ended_at or shift.started_at + limit


def latest_shift(caller: Caller) -> ShiftRecord | None:
    query = ShiftRecord.query(agent_key(caller.tenant_id, str(caller.agent_id)), scan_index_forward=False, limit=1,
                              consistent_read=True)
    return next(iter(query), None)


def _open_shift(caller: Caller, now: datetime) -> ShiftRecord | None:
    """The agent's open shift; one past the maximum is closed here (``closed_by: auto``)."""
    shift = latest_shift(caller)
    if shift is None or shift.ended_at is not None:
        return None
    end = effective_end(shift, max_shift(caller.tenant_id))
    if end <= now:
        _close(shift, end, "auto")
        return None
    return shift


def _close(shift: ShiftRecord, ended_at: datetime, closed_by: str) -> bool:
    try:
        shift.update(actions=[ShiftRecord.ended_at.set(ended_at), ShiftRecord.closed_by.set(closed_by)],
                     condition=ShiftRecord.ended_at.does_not_exist())
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def start_shift(caller: Caller, body: dict[str, Any]) -> dict[str, str]:
    data = parse_input(StartShiftInput, body)
    now = clock.now()
    if _open_shift(caller, now) is not None:
        raise Conflict("A shift is already open; end it first.", code="shift_open")
    shift_id = "shf_" + secrets.token_hex(10)
    location = None
    if data.location:
        lat, lng = round_location(data.location.lat, data.location.lng)
        location = {"lat": lat, "lng": lng}
    ShiftRecord(
        agent_key(caller.tenant_id, str(caller.agent_id)),
        f"{clock.sort_stamp(now)}#{shift_id}",
        shift_id=shift_id,
        tenant_id=caller.tenant_id,
        started_at=now,
        location=location,
        expires_at=now + timedelta(days=retention_days(caller.tenant_id, "calls")),
    ).save()
    return {"shift_id": shift_id, "started_at": clock.iso(now)}


def end_shift(caller: Caller) -> dict[str, str]:
    now = clock.now()
    shift = _open_shift(caller, now)
    if shift is None or not _close(shift, now, "agent"):
        raise Conflict("There is no open shift to end.", code="no_open_shift")
    return {"shift_id": shift.shift_id, "ended_at": clock.iso(now)}


def shifts_between(caller: Caller, earliest: datetime, latest: datetime) -> list[tuple[datetime, datetime]]:
    """The agent's shifts that may cover calls started between two times, as (start, end) pairs."""
    limit = max_shift(caller.tenant_id)
    low = clock.sort_stamp(earliest - limit)
    high = f"{clock.sort_stamp(latest)}~"
    query = ShiftRecord.query(agent_key(caller.tenant_id, str(caller.agent_id)),
                              ShiftRecord.started_sort.between(low, high), consistent_read=True)
    return [(shift.started_at, effective_end(shift, limit)) for shift in query]


def list_shifts(tenant_id: str, agent_id: str, limit: int) -> list[dict[str, Any]]:
    """An agent's shifts, newest first (for admins); a shift past its maximum shows as closed."""
    query = ShiftRecord.query(agent_key(tenant_id, agent_id), scan_index_forward=False, limit=limit)
    maximum, now = max_shift(tenant_id), clock.now()
    views = []
    for shift in query:
        end = effective_end(shift, maximum)
        closed = shift.ended_at is not None or end <= now
        views.append({
            "shift_id": shift.shift_id,
            "started_at": clock.iso(shift.started_at),
            "ended_at": clock.iso(end) if closed else None,
            "closed_by": shift.closed_by or ("auto" if closed else None),
            "location": shift.location.as_dict() if shift.location else None,
        })
    return views
