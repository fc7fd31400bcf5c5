"""The staff's side of a grievance: the queue, one grievance opened, and the answer sent to the person.

Lists show no personal data (ids, status, dates) and come from one query on the tenant's queue:
open first, soonest due first. Reading one opens the complaint and the person's address, and
answering stores the answer sealed and sends it on the channel the person proved: both audited.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from pydantic import StringConstraints

from chalicelib import clock
from chalicelib.errors import GrievanceNotOpen, ValidationFailed
from chalicelib.notify import DeliveryFailed
from chalicelib.services import audit
from chalicelib.services.access.auth import Caller
from chalicelib.services.pagination import decode_cursor, encode_cursor
from chalicelib.services.rights.grievances import messages
from chalicelib.services.rights.grievances.filing import TEXT_MAX, keep_until, visible_grievance
from chalicelib.services.rights.grievances.officer import required_officer
from chalicelib.services.tenants.tenancy import require_tenant
from chalicelib.services.validation import StrictInput, parse_input
from chalicelib.store import grievances
from chalicelib.store.grievances import RANKS, Grievance

LISTED = tuple(RANKS)  # open, answered


class AnswerInput(StrictInput):
    text: Annotated[str, StringConstraints(min_length=1, max_length=TEXT_MAX)]


def _summary(grievance: Grievance) -> dict[str, Any]:
    return {
        "grievance_id": grievance.grievance_id,
        "status": grievance.status,
        "created_at": clock.iso(grievance.created_at),
        "due_at": clock.iso(grievance.due_at),
        "answered_at": clock.iso(grievance.answered_at) if grievance.answered_at else None,
        "overdue": grievance.status == "open" and grievance.due_at <= clock.now(),
    }


def list_grievances(caller: Caller, status: str | None, limit: int, cursor: str | None) -> dict[str, Any]:
    """``GET /v1/grievances``: a page of the tenant's verified grievances (one query, nothing opened)."""
    if status is not None and status not in LISTED:
        raise ValidationFailed(details=[{"field": "status", "problem": "open or answered"}])
    kind = f"grievances:{status or 'all'}"
    after = decode_cursor(cursor, kind)
    if after is not None and not (grievances.is_position(after)
                                  and (status is None or after.startswith(RANKS[status] + "#"))):
        raise ValidationFailed(details=[{"field": "cursor", "problem": "not a cursor this list gave out"}])
    items, position = grievances.page(caller.tenant_id, status, limit, after)
    audit.record(caller.tenant_id, caller.key_id, "grievance.list", None)
    return {"items": [_summary(item) for item in items],
            "next_cursor": encode_cursor(kind, position) if position else None}


def grievance_view(grievance: Grievance) -> dict[str, Any]:
    """One grievance with the complaint, the answer and the person's address opened (null once shredded)."""
    kind, _ = grievances.identifier_of(grievance)
    return {
        **_summary(grievance),
        "verified_at": clock.iso(grievance.verified_at) if grievance.verified_at else None,
        "officer_notified": grievance.officer_notified_at is not None,
        "answer_sent": grievance.answer_sent_at is not None,
        "contact_kind": kind,
        "contact": grievances.open_identifier(grievance),
        "text": grievances.open_text(grievance),
        "answer": grievances.open_answer(grievance),
    }


def get_grievance(caller: Caller, grievance_id: str) -> dict[str, Any]:
    grievance = visible_grievance(caller, grievance_id)
    view = grievance_view(grievance)
    audit.record(caller.tenant_id, caller.key_id, "grievance.read", grievance_id)
    return view


def answer_grievance(caller: Caller, grievance_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /v1/grievances/{id}/answer``: store the answer and send it to the person.

    An answer stored whose message could not go out may be sent again with the same text (``answer_sent``
    says whether it went); any other second answer is 409 ``grievance_not_open``.
    """
    data = parse_input(AnswerInput, body)
    grievance = visible_grievance(caller, grievance_id)
    tenant = require_tenant(grievance.tenant_id)
    officer = required_officer(tenant)
    action = "grievance.answer.resend"
    if grievance.status == "open":
        now = clock.now()
        if grievances.answer(grievance, data.text, caller.key_id, now, keep_until(tenant, now)):
            action = "grievance.answer"
        else:
            grievance = grievances.get(grievance_id) or grievance
    if grievance.status != "answered" or grievance.answer_sent_at is not None:
        raise GrievanceNotOpen()
    stored = grievances.open_answer(grievance) or ""
    if not hmac.compare_digest(stored.encode(), data.text.encode()):
        raise GrievanceNotOpen()  # answered with another text, whose message is still to go
    audit.record(tenant, caller.key_id, action, grievance_id)
    to = grievances.open_identifier(grievance)
    if to:
        try:
            messages.send_answer(tenant, grievance, to, stored, officer)
            grievances.mark_answer_sent(grievance, clock.now())
        except DeliveryFailed as failure:
            from chalicelib.logs import get_logger

            get_logger().warning("grievance_message_not_sent",
                                 extra={"grievance_id": grievance_id, "permanent": failure.permanent})
    return grievance_view(grievance)
