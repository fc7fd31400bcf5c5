"""The grievances repository: complaints, their queue per tenant, and the tenant's grievance officer.

It owns the item's formats (the queue's rank and order, ``<kind>:<blind index>`` references, the
sealed fields' names), the grievance's own inline data key, and the conditional writes of its
lifecycle, which come back as ``True``/``False``. Every write is a single-item call; the ones that
move the lifecycle recognise their own SDK retry (:func:`chalicelib.store.conditional.applied`).
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any

from chalicelib import clock
from chalicelib.store.base import plain
from chalicelib.store.conditional import applied
from chalicelib.store.models.grievances import GrievanceRecord
from chalicelib.store.models.tenants import TenantRecord
from chalicelib.vault.envelope import SubjectKey, new_inline_key

# What services hold: a grievance as read (attributes to read, never to set).
Grievance = GrievanceRecord

IDENTIFIER, TEXT, ANSWER = "identifier", "text", "answer"
# Where each listed status sits in a tenant's queue: open first, then answered.
RANKS = {"open": "0", "answered": "1"}
POSITION = re.compile(r"^[01]#\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z#grv_[0-9a-f]{32}$")


# --- keys and formats ---------------------------------------------------------------------

def _queue_sk(status: str, due_at: datetime, grievance_id: str) -> str:
    return f"{RANKS[status]}#{clock.sort_stamp(due_at)}#{grievance_id}"


def _key_of(grievance: Grievance) -> SubjectKey:
    return SubjectKey(grievance.tenant_id, grievance.grievance_id, grievance.wrapped_key)


def identifier_of(grievance: Grievance) -> tuple[str, str]:
    """``(kind, blind index)`` of the e-mail or phone the grievance was raised with."""
    kind, ref = grievance.identifier_ref.split(":", 1)
    return kind, ref


def is_position(value: object) -> bool:
    """Whether a position from a cursor is one the queue gives out."""
    return isinstance(value, str) and bool(POSITION.match(value))


def _open(grievance: Grievance, field: str, sealed: bytes | None) -> str | None:
    if not sealed or not grievance.wrapped_key:
        return None
    return _key_of(grievance).unseal(field, sealed)


def open_identifier(grievance: Grievance) -> str | None:
    return _open(grievance, IDENTIFIER, grievance.identifier_sealed)


def open_text(grievance: Grievance) -> str | None:
    return _open(grievance, TEXT, grievance.text_sealed)


def open_answer(grievance: Grievance) -> str | None:
    return _open(grievance, ANSWER, grievance.answer_sealed)


# --- reading ------------------------------------------------------------------------------

def get(grievance_id: str) -> Grievance | None:
    """The grievance (strongly consistent); None when there is none or it has expired (TTL lags)."""
    try:
        grievance = GrievanceRecord.get(grievance_id, consistent_read=True)
    except GrievanceRecord.DoesNotExist:
        return None
    return grievance if grievance.expires_at > clock.now() else None


def page(tenant_id: str, status: str | None, limit: int, after: str | None) -> tuple[list[Grievance], str | None]:
    """One page of a tenant's queue (one query), and the position to resume after, if there is more."""
    condition = GrievanceRecord.queue_sk.startswith(f"{RANKS[status]}#") if status else None
    start = ({"queue_pk": {"S": tenant_id}, "queue_sk": {"S": after}, "grievance_id": {"S": after.rsplit("#", 1)[1]}}
             if after else None)
    query = GrievanceRecord.queue.query(tenant_id, range_key_condition=condition, limit=limit,
                                        last_evaluated_key=start)
    items = list(query)
    return items, (items[-1].queue_sk if items and query.last_evaluated_key else None)


# --- writing ------------------------------------------------------------------------------

def create(grievance_id: str, tenant_id: str, *, kind: str, identifier: str, identifier_ref: str, channel: str,
           text: str, created_by_key_id: str, now: datetime, due_at: datetime, expires_at: datetime,
           code_hash: str, code_expires_at: datetime) -> Grievance:
    """Store a new grievance waiting for its code; the address and the text are sealed under its own key."""
    inline = new_inline_key(tenant_id, grievance_id)
    grievance = GrievanceRecord(
        grievance_id, tenant_id=tenant_id, status="pending_verification", channel=channel,
        wrapped_key=inline.wrapped, master_key=inline.master_key,
        identifier_sealed=inline.key.seal(IDENTIFIER, identifier), identifier_ref=f"{kind}:{identifier_ref}",
        text_sealed=inline.key.seal(TEXT, text), code_hash=code_hash, code_expires_at=code_expires_at,
        created_by_key_id=created_by_key_id, created_at=now, due_at=due_at, expires_at=expires_at)
    grievance.save()
    return grievance


def _took(grievance: Grievance, ours: Any) -> bool:
    """Whether the stored grievance shows our write (then ``grievance`` takes its values)."""
    try:
        stored = GrievanceRecord.get(grievance.grievance_id, consistent_read=True)
    except GrievanceRecord.DoesNotExist:
        return False
    if not ours(stored):
        return False
    grievance.attribute_values = stored.attribute_values
    return True


def count_attempt(grievance: Grievance, max_attempts: int) -> bool:
    """Count one code attempt if the grievance still waits for its code and has attempts left; False if not.

    The count carries a token, so the SDK's retry of a count whose answer was lost is recognised, never
    counted twice. ``grievance.attempts`` is the new count afterwards.
    """
    token = secrets.token_hex(8)
    return applied(grievance.update, mine=lambda: _took(grievance, lambda stored: stored.attempt_token == token),
                   actions=[GrievanceRecord.attempts.add(1), GrievanceRecord.attempt_token.set(token)],
                   condition=(GrievanceRecord.attempts < max_attempts)
                   & (GrievanceRecord.status == "pending_verification")
                   & (GrievanceRecord.attempt_token.does_not_exist() | (GrievanceRecord.attempt_token != token)))


def mark_open(grievance: Grievance, now: datetime, expires_at: datetime) -> bool:
    """The code was right: open, on the tenant's queue, kept as long as the audit trail; False if it moved on."""
    return applied(grievance.update, mine=lambda: _took(grievance, lambda stored: stored.verified_at == now),
                   actions=[GrievanceRecord.status.set("open"), GrievanceRecord.verified_at.set(now),
                            GrievanceRecord.code_hash.remove(), GrievanceRecord.expires_at.set(expires_at),
                            GrievanceRecord.queue_pk.set(grievance.tenant_id),
                            GrievanceRecord.queue_sk.set(_queue_sk("open", grievance.due_at,
                                                                   grievance.grievance_id))],
                   condition=GrievanceRecord.status == "pending_verification")


def reject(grievance: Grievance) -> bool:
    """Locked by wrong codes: rejected, and its key removed, so nothing sealed on it opens again.

    Only while it still waits for its code: False when the right code opened it meanwhile (a wrong code
    racing the right one must not shred a grievance that is open).
    """
    return applied(grievance.update, mine=lambda: _took(grievance, lambda stored: stored.status == "rejected"),
                   actions=[GrievanceRecord.status.set("rejected"), GrievanceRecord.wrapped_key.remove(),
                            GrievanceRecord.identifier_sealed.remove(), GrievanceRecord.text_sealed.remove(),
                            GrievanceRecord.code_hash.remove()],
                   condition=GrievanceRecord.status == "pending_verification")


def mark_officer_notified(grievance: Grievance, now: datetime) -> None:
    grievance.update(actions=[GrievanceRecord.officer_notified_at.set(now)])


def answer(grievance: Grievance, text: str, by_key_id: str, now: datetime, expires_at: datetime) -> bool:
    """Store the answer (sealed) and move the grievance down the queue; False if it is not open any more."""
    return applied(grievance.update, mine=lambda: _took(grievance, lambda stored: stored.answered_at == now),
                   actions=[GrievanceRecord.status.set("answered"), GrievanceRecord.answered_at.set(now),
                            GrievanceRecord.answered_by_key_id.set(by_key_id),
                            GrievanceRecord.answer_sealed.set(_key_of(grievance).seal(ANSWER, text)),
                            GrievanceRecord.expires_at.set(expires_at),
                            GrievanceRecord.queue_sk.set(_queue_sk("answered", grievance.due_at,
                                                                   grievance.grievance_id))],
                   condition=GrievanceRecord.status == "open")


def mark_answer_sent(grievance: Grievance, now: datetime) -> None:
    grievance.update(actions=[GrievanceRecord.answer_sent_at.set(now)])


# --- the tenant's grievance officer -------------------------------------------------------

def officer_of(tenant: Any) -> dict[str, str] | None:
    """``{"name", "channel", "contact"}`` of the tenant's grievance officer; None when none is named."""
    officer = {name: str(value) for name, value in plain(getattr(tenant, "grievance_officer", None)).items()}
    return officer or None


def due_days_of(tenant: Any) -> int:
    return int(getattr(tenant, "grievance_due_days", None) or 90)


def set_officer(tenant: Any, officer: dict[str, str] | None, due_days: int | None) -> None:
    """Name the officer and/or change the due days (what is None stays as it is)."""
    actions: list[Any] = []
    if officer is not None:
        actions.append(TenantRecord.grievance_officer.set(officer))
    if due_days is not None:
        actions.append(TenantRecord.grievance_due_days.set(due_days))
    if actions:
        tenant.update(actions=actions)
