"""``GET /v1/privacy-requests``: the tenant's privacy requests for its admins, with the days left to each due date.

One query on the tenant's list (:mod:`chalicelib.store.privacy`): open requests (waiting for their code,
verified, in progress) soonest due first, so the most urgent lead; a final status newest first. Ids,
statuses, dates, the receipt's counts and a rejection's reason only: nothing that identifies the person.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib import clock
from chalicelib.errors import ValidationFailed
from chalicelib.services import audit
from chalicelib.services.access.auth import Caller
from chalicelib.services.pagination import decode_cursor, encode_cursor
from chalicelib.store import privacy
from chalicelib.store.privacy import PrivacyRequest

OPEN_STATUSES = ("pending_verification", "verified", "in_progress")
FINAL_STATUSES = ("completed", "rejected", "expired")
STATUSES = ("open", *OPEN_STATUSES, *FINAL_STATUSES)


def days_left(due_at: datetime, at: datetime) -> int:
    """Whole UTC days from ``at`` to the due day: 0 on the due day itself, negative once overdue."""
    return (due_at.date() - at.date()).days


def summary(request: PrivacyRequest, now: datetime) -> dict[str, Any]:
    """A list entry. A closed request's ``days_left`` is counted at its completion (negative: it was late)."""
    receipt = privacy.receipt_of(request)
    return {
        "request_id": request.request_id,
        "type": request.type,
        "status": request.status,
        "filed_at": clock.iso(request.created_at),
        "due_at": clock.iso(request.due_at),
        "days_left": days_left(request.due_at, request.completed_at or now),
        "completed_at": clock.iso(request.completed_at) if request.completed_at else None,
        "receipt": receipt or None,
        "rejection_reason": request.rejection_reason or None,
    }


def list_requests(caller: Caller, status: str | None, limit: int, cursor: str | None) -> dict[str, Any]:
    """A page of the tenant's requests in ``status`` (default ``open``: every request with work left)."""
    status = status or "open"
    if status not in STATUSES:
        raise ValidationFailed(details=[{"field": "status", "problem": "one of " + ", ".join(STATUSES)}])
    kind = f"privacy_requests:{status}"
    after = decode_cursor(cursor, kind)
    if after is not None and not privacy.is_list_position(after):
        raise ValidationFailed(details=[{"field": "cursor", "problem": "not a cursor this list gave out"}])
    group = status if status in FINAL_STATUSES else privacy.OPEN
    items, position = privacy.tenant_page(caller.tenant_id, group, status if status in OPEN_STATUSES else None,
                                          limit, after)
    audit.record(caller.tenant_id, caller.key_id, "privacy_request.list", None)
    now = clock.now()
    return {"items": [summary(item, now) for item in items],
            "next_cursor": encode_cursor(kind, position) if position else None}
