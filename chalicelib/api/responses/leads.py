"""What the lead routes answer: intake, a lead, a page of leads, a timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic.json_schema import SkipJsonSchema

from chalicelib.api.responses.common import OpenView, View, absent

Stage = Literal["new", "contacted", "qualified", "won", "lost"]
EventType = Literal["submission", "call", "consent", "stage_change", "assignment_change", "notice", "identity"]


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
    # Retention and erasure are suspended (admins set it with PUT /v1/leads/{lead_id}/legal-hold).
    legal_hold: bool


class LeadPage(View):
    items: list[LeadView]
    next_cursor: str | None


class Actor(View):
    """Who made a staff change: the role, and the key and agent (ids only) when it was a key."""

    role: Literal["admin", "agent", "operator"]
    key_id: str | None
    agent_id: str | None


class TimelineEvent(OpenView):
    """One event; its details depend on the type (a call's direction, a stage change's from and to, ...).

    ``stage_change`` and ``assignment_change`` (``from``/``to`` agent ids) carry their ``actor`` (changes
    made before actors were recorded have none)."""

    event_id: str
    type: EventType
    at: datetime
    actor: Actor | SkipJsonSchema[None] = absent()


class TimelinePage(View):
    items: list[TimelineEvent]
    next_cursor: str | None


class DeclaredField(View):
    name: str
    type: Literal["string", "number", "boolean", "date"]
    category: str
    # What forms show people (1..60 characters of plain text), when the operator gave one.
    label: str | None = None


class FieldList(View):
    """The tenant's declared lead fields, for forms to render."""

    items: list[DeclaredField]
