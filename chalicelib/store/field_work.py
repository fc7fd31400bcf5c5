"""The field-work repository: agents' shifts and the calls their phones report.

It owns everything DynamoDB about field work: the agent partition (``<tenant_id>#<agent_id>``),
shift and call sort keys, list positions, the expiry filter, and the conditional close of a
shift, which comes back as ``True``/``False``. Services decide what is stored (on shift, not an
own number, known or new lead); they get :class:`Shift` and :class:`Call` items to read.

A call sits in two lists, both ordered by ``"<ISO start with microseconds>#<client_event_id>"``:
its agent's (a local index, strongly consistent) and its lead's (the ``by_lead`` global index,
eventually consistent). The lead's list is what its timeline, its export and its erasure read,
so a stored call costs one item and no timeline event.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from chalicelib import clock
from chalicelib.store.base import plain
from chalicelib.store.batch import get_items, write_all
from chalicelib.store.conditional import applied
from chalicelib.store.leads import agent_partition
from chalicelib.store.models.calls import CallRecord
from chalicelib.store.models.field_work_days import FieldWorkDayRecord
from chalicelib.store.models.shifts import ShiftRecord
from chalicelib.vault.envelope import SubjectKey

# What services hold: items as read (attributes to read, never to set).
Shift = ShiftRecord
Call = CallRecord

# Where a call sits in a list: "<ISO time with microseconds>#<client_event_id>".
CALL_POSITION = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z#[A-Za-z0-9._:\-]{1,128}$")

IGNORED_REASONS = ("outside_shift", "own_number", "unknown_number")
# How long a day's counts are kept (counts and agent ids only; a report spans a month at most).
COUNTS_KEPT = timedelta(days=400)

__all__ = ["CALL_POSITION", "IGNORED_REASONS", "Call", "DayCount", "Shift"]


# --- keys ---------------------------------------------------------------------------------

def agent_key(tenant_id: str, agent_id: str) -> str:
    """One agent's partition, in the shifts and the calls table: the same key the leads assigned to
    the agent are listed under."""
    return agent_partition(tenant_id, agent_id)


def _sort(moment: datetime, item_id: str) -> str:
    return f"{clock.sort_stamp(moment)}#{item_id}"


def position_of(call: Call) -> str:
    """Where a call sits in its agent's and its lead's lists (an opaque position for cursors)."""
    return str(call.started_sort)


def is_call_position(value: object) -> bool:
    """Whether a position from a cursor is one these lists give out."""
    return isinstance(value, str) and bool(CALL_POSITION.match(value))


def _unexpired(now: datetime) -> Any:
    return CallRecord.expires_at.does_not_exist() | (CallRecord.expires_at > now)


# --- shifts -------------------------------------------------------------------------------

def latest_shift(tenant_id: str, agent_id: str) -> Shift | None:
    """The agent's most recent shift, open or closed (strongly consistent)."""
    query = ShiftRecord.query(agent_key(tenant_id, agent_id), scan_index_forward=False, limit=1,
                              consistent_read=True)
    return next(iter(query), None)


def start_shift(
    tenant_id: str, agent_id: str, started_at: datetime, location: dict[str, float] | None, expires_at: datetime
) -> Shift:
    """Save a new open shift and return it (its ``shift_id`` minted here)."""
    shift_id = "shf_" + secrets.token_hex(10)
    shift = ShiftRecord(
        agent_key(tenant_id, agent_id),
        _sort(started_at, shift_id),
        shift_id=shift_id,
        tenant_id=tenant_id,
        started_at=started_at,
        location=location,
        expires_at=expires_at,
    )
    shift.save()
    return shift


def close_shift(shift: Shift, ended_at: datetime, closed_by: str) -> bool:
    """End a shift if it is still open; False when it was closed meanwhile (by the agent or automatically).

    The SDK's retry of a close whose answer was lost finds the shift closed: closed at this very
    microsecond by the same hand, it is this close, not another.
    """

    def mine() -> bool:
        try:
            stored = ShiftRecord.get(shift.agent_key, shift.started_sort, consistent_read=True)
        except ShiftRecord.DoesNotExist:
            return False
        return stored.ended_at == ended_at and stored.closed_by == closed_by

    return applied(shift.update, mine=mine,
                   actions=[ShiftRecord.ended_at.set(ended_at), ShiftRecord.closed_by.set(closed_by)],
                   condition=ShiftRecord.ended_at.does_not_exist())


def shifts_started_between(tenant_id: str, agent_id: str, earliest: datetime, latest: datetime) -> list[Shift]:
    """The agent's shifts that started from ``earliest`` to ``latest`` inclusive (strongly consistent)."""
    high = f"{clock.sort_stamp(latest)}~"  # "~" sorts after every shift id at that very microsecond
    query = ShiftRecord.query(agent_key(tenant_id, agent_id),
                              ShiftRecord.started_sort.between(clock.sort_stamp(earliest), high),
                              consistent_read=True)
    return list(query)


def newest_shifts(tenant_id: str, agent_id: str, limit: int) -> list[Shift]:
    """The agent's latest shifts, newest first."""
    return list(ShiftRecord.query(agent_key(tenant_id, agent_id), scan_index_forward=False, limit=limit))


def location_of(shift: Shift) -> dict[str, float] | None:
    """Where the shift started (rounded when it was saved), as a plain dict."""
    return plain(shift.location) if shift.location else None


# --- calls: writing -----------------------------------------------------------------------

def _number_field(call_id: str) -> str:
    return f"call:{call_id}"


def new_call(
    key: SubjectKey,
    agent_id: str,
    call_id: str,
    number: str,
    *,
    direction: str,
    status: str,
    started_at: datetime,
    duration_s: int,
    stored_at: datetime,
    expires_at: datetime,
    upload: str | None = None,
) -> Call:
    """An unsaved call of the key's lead; the number is sealed under that key, for a batch.

    Keyed by the agent and the phone's own ``client_event_id``, so a retried or reordered upload
    rewrites the same item and never adds a second one.
    """
    return CallRecord(
        agent_key(key.tenant_id, agent_id),
        call_id,
        started_sort=_sort(started_at, call_id),
        tenant_id=key.tenant_id,
        agent_id=agent_id,
        lead_id=key.subject_id,
        number_sealed=key.seal(_number_field(call_id), number),
        direction=direction,
        status=status,
        started_at=started_at,
        duration_s=duration_s,
        stored_at=stored_at,
        upload=upload,
        expires_at=expires_at,
    )


# --- calls: reading -----------------------------------------------------------------------

def number_of(key: SubjectKey, call: Call) -> str:
    """The other party's number, opened with the call's lead's key."""
    return key.unseal(_number_field(str(call.client_event_id)), call.number_sealed)


def stored_calls(tenant_id: str, agent_id: str, call_ids: Iterable[str]) -> dict[str, Call]:
    """Which of these calls the agent stored before, by id (one strongly consistent batch read)."""
    key = agent_key(tenant_id, agent_id)
    wanted = [(key, call_id) for call_id in dict.fromkeys(call_ids)]
    if not wanted:
        return {}
    return {call.client_event_id: call for call in get_items(CallRecord, wanted)}


def stored_pairs(tenant_id: str, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these ``(agent_id, client_event_id)`` calls exist (one strongly consistent batch read)."""
    wanted = [(agent_key(tenant_id, agent_id), call_id) for agent_id, call_id in dict.fromkeys(pairs)]
    if not wanted:
        return set()
    return {(call.agent_id, call.client_event_id) for call in get_items(CallRecord, wanted)}


def newest_of_agent(tenant_id: str, agent_id: str, limit: int, after: str | None) -> tuple[list[Call], str | None]:
    """One page of the agent's unexpired calls, most recent first; and where the next page starts
    (None at the end). ``after`` is a position this function gave out (see :func:`is_call_position`)."""
    key = agent_key(tenant_id, agent_id)
    start = None
    if after is not None:
        start = {"agent_key": {"S": key}, "started_sort": {"S": after},
                 "client_event_id": {"S": after.split("#", 1)[1]}}
    query = CallRecord.by_time.query(key, scan_index_forward=False, limit=limit, last_evaluated_key=start,
                                     filter_condition=_unexpired(clock.now()))
    calls = list(query)
    return calls, (position_of(calls[-1]) if query.last_evaluated_key and calls else None)


def newest_of_lead(lead_id: str, limit: int, before: str | None) -> tuple[list[Call], str | None]:
    """Up to ``limit`` of the lead's unexpired calls placed before ``before`` (from the newest when None),
    most recent first; and the position after them (None at the end). Eventually consistent (a global index).
    """
    condition = CallRecord.started_sort < before if before is not None else None
    query = CallRecord.by_lead.query(lead_id, condition, scan_index_forward=False, limit=limit,
                                     filter_condition=_unexpired(clock.now()))
    calls = list(query)
    return calls, (position_of(calls[-1]) if query.last_evaluated_key and calls else None)


def calls_of_lead(lead_id: str) -> list[Call]:
    """Every call of the lead, expired or not, oldest first: for its export and its erasure.

    Eventually consistent: a call stored a moment ago may be missing. Erasure shreds the lead's
    key first, so anything the index had not caught up with is unreadable and leaves by TTL.
    """
    return list(CallRecord.by_lead.query(lead_id))


def delete_calls_of_lead(lead_id: str) -> int:
    """Delete every call of the lead the index shows (25 a call); returns how many were deleted."""
    calls = calls_of_lead(lead_id)
    if calls:
        write_all(deletes=calls)
    return len(calls)


# --- field work counted by day -------------------------------------------------------------
#
# One item per (tenant, agent, UTC day) in ``field_work_days``: partition "<tenant_id>#<YYYY-MM>", sort key
# "<YYYY-MM-DD>#<agent_id>". Each counted write adds to it with ADD, carrying a token of its own in the same
# update, conditional on the token not being there yet: the SDK's retry of an applied update, or the same
# upload or shift sent again, finds its token and adds nothing (a refusal is "counted already").

@dataclass(frozen=True)
class DayCount:
    """What one write adds to one agent's day."""

    agent_id: str
    day: date
    stored: int = 0
    ignored: dict[str, int] = field(default_factory=dict)  # reason (of IGNORED_REASONS) -> calls
    shifts: int = 0
    shift_minutes: int = 0

    def __bool__(self) -> bool:
        return bool(self.stored or any(self.ignored.values()) or self.shifts or self.shift_minutes)


def _month_key(tenant_id: str, day: date) -> str:
    return f"{tenant_id}#{day:%Y-%m}"


def _day_key(day: date, agent_id: str) -> str:
    return f"{day:%Y-%m-%d}#{agent_id}"


def upload_token(agent_id: str, call_ids: Iterable[str]) -> str:
    """The same for every sending of one upload (the agent and its calls' ids): what its counts and calls carry."""
    digest = hashlib.sha256("#".join([agent_id, *sorted(set(call_ids))]).encode()).hexdigest()
    return f"up:{digest[:16]}"


def shift_token(shift: Shift, moment: str) -> str:
    """A shift's ``start`` or ``end`` counted, once."""
    return f"{moment}:{shift.shift_id}"


def add_to_day(tenant_id: str, count: DayCount, token: str) -> bool:
    """Add ``count`` to the agent's day unless ``token`` was counted there; False when it was (nothing added)."""
    record = FieldWorkDayRecord
    amounts = [(record.stored, count.stored), (record.shifts, count.shifts),
               (record.shift_minutes, count.shift_minutes),
               *((getattr(record, f"ignored_{reason}"), count.ignored.get(reason, 0)) for reason in IGNORED_REASONS)]
    actions: list[Any] = [attribute.add(amount) for attribute, amount in amounts if amount]
    if not actions:
        return False
    kept_until = datetime(count.day.year, count.day.month, count.day.day, tzinfo=UTC) + COUNTS_KEPT
    actions += [record.tokens.add({token}), record.expires_at.set(kept_until)]
    item = record(_month_key(tenant_id, count.day), _day_key(count.day, count.agent_id))
    return applied(item.update, actions=actions, condition=~record.tokens.contains(token))


def counted_days(tenant_id: str, first: date, last: date) -> list[DayCount]:
    """The agents' days from ``first`` to ``last`` (inclusive), day then agent: one query per month spanned."""
    months = sorted({(first + timedelta(days=n)).replace(day=1) for n in range((last - first).days + 1)})
    found = []
    for month in months:
        query = FieldWorkDayRecord.query(
            _month_key(tenant_id, month),
            FieldWorkDayRecord.day_key.between(f"{first:%Y-%m-%d}#", f"{last:%Y-%m-%d}#~"),
            attributes_to_get=["day_key", "stored", "shifts", "shift_minutes",
                               *(f"ignored_{reason}" for reason in IGNORED_REASONS)])
        for item in query:
            day, agent_id = str(item.day_key).split("#", 1)
            found.append(DayCount(
                agent_id, date.fromisoformat(day), int(item.stored or 0),
                {reason: int(getattr(item, f"ignored_{reason}") or 0) for reason in IGNORED_REASONS},
                int(item.shifts or 0), int(item.shift_minutes or 0)))
    return found
