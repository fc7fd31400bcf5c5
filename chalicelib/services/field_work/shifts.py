"""Punching in and out. A shift left open ends itself after the tenant's maximum length.

Each shift is counted on its agent's day (``field_work_days``: the day it started) when it starts, and its
minutes when it closes, each with a token of its own (see :func:`chalicelib.store.field_work.add_to_day`), so
no retry counts it twice. A count that failed after its shift was written is made good when the agent sends
the request again: a start retried meets the open shift, an end retried meets the closed one; a shift closed
automatically is counted again (once) by the next start.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import Field

from chalicelib import clock
from chalicelib.errors import NoOpenShift, ShiftOpen
from chalicelib.services.access.auth import Caller
from chalicelib.services.tenants.tenancy import Tenant, expiry, require_tenant
from chalicelib.services.validation import StrictInput, parse_input
from chalicelib.store import field_work
from chalicelib.store.field_work import DayCount, Shift
from chalicelib.vault.minimise import round_location


class LocationInput(StrictInput):
    lat: Annotated[float, Field(ge=-90, le=90, strict=False)]
    lng: Annotated[float, Field(ge=-180, le=180, strict=False)]


class StartShiftInput(StrictInput):
    location: LocationInput | None = None


def max_shift(tenant: Tenant) -> timedelta:
    return timedelta(hours=int(tenant.max_shift_hours or 12))


def effective_end(shift: Shift, limit: timedelta) -> datetime:
    """When the shift ends: its punch-out, or its start plus the maximum length."""
    return shift.ended_at or shift.started_at + limit


def _count_start(shift: Shift, agent_id: str) -> None:
    field_work.add_to_day(shift.tenant_id, DayCount(agent_id, shift.started_at.date(), shifts=1),
                          field_work.shift_token(shift, "start"))


def _count_end(shift: Shift, agent_id: str, ended_at: datetime | None = None) -> None:
    """The closed shift's minutes (it ended at ``ended_at``, or as read), on the day it started."""
    ended_at = ended_at or shift.ended_at
    if ended_at is None:
        return
    minutes = max(0, round((ended_at - shift.started_at).total_seconds() / 60))
    field_work.add_to_day(shift.tenant_id, DayCount(agent_id, shift.started_at.date(), shift_minutes=minutes),
                          field_work.shift_token(shift, "end"))


def _open_shift(caller: Caller, tenant: Tenant, now: datetime) -> Shift | None:
    """The agent's open shift; one past the maximum is closed here (``closed_by: auto``) and its minutes counted."""
    agent_id = str(caller.agent_id)
    shift = field_work.latest_shift(caller.tenant_id, agent_id)
    if shift is None:
        return None
    if shift.ended_at is not None:
        if shift.closed_by == "auto":  # its count may have failed after the close, with nobody to retry it
            _count_end(shift, agent_id)
        return None
    end = effective_end(shift, max_shift(tenant))
    if end <= now:
        if field_work.close_shift(shift, end, "auto"):
            _count_end(shift, agent_id, end)
        return None
    return shift


def start_shift(caller: Caller, body: dict[str, Any]) -> dict[str, str]:
    data = parse_input(StartShiftInput, body)
    now = clock.now()
    tenant = require_tenant(caller.tenant_id)
    open_shift = _open_shift(caller, tenant, now)
    if open_shift is not None:
        _count_start(open_shift, str(caller.agent_id))  # a start sent again: its count may not have landed
        raise ShiftOpen()
    location = None
    if data.location:
        lat, lng = round_location(data.location.lat, data.location.lng)
        location = {"lat": lat, "lng": lng}
    shift = field_work.start_shift(caller.tenant_id, str(caller.agent_id), now, location,
                                   expiry(tenant, "calls", now))
    _count_start(shift, str(caller.agent_id))
    return {"shift_id": shift.shift_id, "started_at": clock.iso(now)}


def end_shift(caller: Caller) -> dict[str, str]:
    now = clock.now()
    agent_id = str(caller.agent_id)
    shift = _open_shift(caller, require_tenant(caller.tenant_id), now)
    if shift is None or not field_work.close_shift(shift, now, "agent"):
        latest = field_work.latest_shift(caller.tenant_id, agent_id)
        if latest is not None:
            _count_end(latest, agent_id)  # an end sent again: its count may not have landed
        raise NoOpenShift()
    _count_end(shift, agent_id, now)
    return {"shift_id": shift.shift_id, "ended_at": clock.iso(now)}


def shifts_between(
    tenant: Tenant, agent_id: str, earliest: datetime, latest: datetime
) -> list[tuple[datetime, datetime]]:
    """The agent's shifts that may cover calls started between two times, as (start, end) pairs."""
    limit = max_shift(tenant)
    shifts = field_work.shifts_started_between(tenant.tenant_id, agent_id, earliest - limit, latest)
    return [(shift.started_at, effective_end(shift, limit)) for shift in shifts]


def list_shifts(tenant: Tenant, agent_id: str, limit: int) -> list[dict[str, Any]]:
    """An agent's shifts, newest first (for admins); a shift past its maximum shows as closed."""
    maximum, now = max_shift(tenant), clock.now()
    views = []
    for shift in field_work.newest_shifts(tenant.tenant_id, agent_id, limit):
        end = effective_end(shift, maximum)
        closed = shift.ended_at is not None or end <= now
        views.append({
            "shift_id": shift.shift_id,
            "started_at": clock.iso(shift.started_at),
            "ended_at": clock.iso(end) if closed else None,
            "closed_by": shift.closed_by or ("auto" if closed else None),
            "location": field_work.location_of(shift),
        })
    return views
