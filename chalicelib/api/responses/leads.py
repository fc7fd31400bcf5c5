"""What the lead routes answer: intake, a lead, a page of leads, a timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from chalicelib.api.responses.common import OpenView, View

Stage = Literal["new", "contacted", "qualified", "won", "lost"]
EventType = Literal["submission", "call", "consent", "stage_change", "notice", "identity"]


class LeadAnswer(View):
    """201 for a new lead, 200 when the person already had one (one person, one lead)."""

    lead_id: str
    status: Literal["created", "merged"]
    # Marketing purposes waiting for the person's confirmation (double opt-in), when any.
    pending_purposes: list[str] | None = None
    # Identifiers held pending on an existing lead until the person proves them, when any.
    pending_identifiers: list[Literal["email", "phone"]] | None = None


class PendingIdentifier(View):
    """An e-mail or phone a public submission asserted for this lead: it reaches nothing until
    the person confirms it through the lead's known address, or staff accept it."""

    kind: Literal["email", "phone"]
    value: str | None  # null in a person's own export: asserted by someone, proven by no one
    asserted_at: datetime


class LeadView(View):
    lead_id: str
    name: str | None
    phone: str | None
    email: str | None
    fields: dict[str, Any]
    utm: dict[str, str]
    source: str
    stage: Stage
    assigned_agent: str | None
    consents: dict[str, bool]
    identity: dict[str, Literal["given", "staff", "proven"]]
    pending_identifiers: list[PendingIdentifier]
    lawful_basis: str
    created_at: datetime
    updated_at: datetime
    last_activity_at: datetime
    last_contacted_at: datetime | None
    expires_at: datetime | None


class LeadPage(View):
    items: list[LeadView]
    next_cursor: str | None


class TimelineEvent(OpenView):
    """One event; its details depend on the type (a call's direction, a stage change's from and to, ...)."""

    event_id: str
    type: EventType
    at: datetime


class TimelinePage(View):
    items: list[TimelineEvent]
    next_cursor: str | None


class DeclaredField(View):
    name: str
    type: Literal["string", "number", "boolean", "date"]
    category: str


class FieldList(View):
    """The tenant's declared lead fields, for forms to render."""

    items: list[DeclaredField]
