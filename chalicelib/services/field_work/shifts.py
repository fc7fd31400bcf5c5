"""Punching in and out. A shift left open ends itself after the tenant's maximum length."""

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
from chalicelib.store.field_work import Shift
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


def _open_shift(caller: Caller, tenant: Tenant, now: datetime) -> Shift | None:
    """The agent's open shift; one past the maximum is closed here (``closed_by: auto``)."""
    shift = field_work.latest_shift(caller.tenant_id, str(caller.agent_id))
    if shift is None or shift.ended_at is not None:
        return None
    end = effective_end(shift, max_shift(tenant))
    if end <= now:
        field_work.close_shift(shift, end, "auto")
        return None
    return shift


def start_shift(caller: Caller, body: dict[str, Any]) -> dict[str, str]:
    data = parse_input(StartShiftInput, body)
    now = clock.now()
    tenant = require_tenant(caller.tenant_id)
    if _open_shift(caller, tenant, now) is not None:
        raise ShiftOpen()
    location = None
    if data.location:
        lat, lng = round_location(data.location.lat, data.location.lng)
        location = {"lat": lat, "lng": lng}
    shift = field_work.start_shift(caller.tenant_id, str(caller.agent_id), now, location,
                                   expiry(tenant, "calls", now))
    return {"shift_id": shift.shift_id, "started_at": clock.iso(now)}


def end_shift(caller: Caller) -> dict[str, str]:
    now = clock.now()
    shift = _open_shift(caller, require_tenant(caller.tenant_id), now)
    if shift is None or not field_work.close_shift(shift, now, "agent"):
        raise NoOpenShift()
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
