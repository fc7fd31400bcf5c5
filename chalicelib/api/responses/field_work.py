"""What shifts and calls answer, for agents and for admins looking at one agent."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from chalicelib.api.responses.common import View, absent

Direction = Literal["incoming", "outgoing"]
CallStatus = Literal["answered", "missed", "rejected", "busy", "unanswered"]


class ShiftStarted(View):
    shift_id: str
    started_at: datetime


class ShiftEnded(View):
    shift_id: str
    ended_at: datetime


class CallResult(View):
    client_event_id: str
    status: Literal["stored", "duplicate", "ignored"]
    reason: Literal["outside_shift", "own_number", "unknown_number"] | SkipJsonSchema[None] = absent()
    lead_id: str | SkipJsonSchema[None] = absent()


class CallResults(View):
    """One result per event, in request order."""

    results: list[CallResult]


class Location(View):
    lat: float
    lng: float


class ShiftView(View):
    shift_id: str
    started_at: datetime
    ended_at: datetime | None
    closed_by: Literal["agent", "auto"] | None
    location: Location | None


class ShiftPage(View):
    items: list[ShiftView]
    next_cursor: None


class CallView(View):
    client_event_id: str
    lead_id: str
    number: str | None = Field(description="Null once the lead's key is shredded")
    direction: Direction
    status: CallStatus
    started_at: datetime
    duration_s: int


class CallPage(View):
    items: list[CallView]
    next_cursor: str | None
