"""``GET /v1/audit?actor&action&from&to``: the tenant's audit log, newest first, filtered inside the queries.

A day's records sit in a few shards (see :mod:`chalicelib.store.audit`); a page merges the shards of each day,
newest day first, and its cursor holds the day and where each shard got to. A page reads at most
:data:`DAYS_PER_PAGE` days, so a quiet range costs a bounded number of queries per page: a page may then
hold fewer than ``limit`` records and still give a ``next_cursor``. Reading the log is itself audited.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from chalicelib import clock
from chalicelib.errors import ValidationFailed
from chalicelib.services import audit
from chalicelib.services.access.auth import Caller
from chalicelib.services.pagination import decode_cursor, encode_cursor
from chalicelib.services.reports.dates import day_range, parse_day
from chalicelib.store.audit import AUDIT_SHARDS, DONE, day_page, is_position

DEFAULT_DAYS = 7
MAX_DAYS = 366
DAYS_PER_PAGE = 7
KIND = "audit"
ACTOR = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")  # a key id, or "operator", "download_link"
ACTION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")


def _filter(raw: str | None, pattern: re.Pattern[str], field: str, problem: str) -> str | None:
    if raw is None:
        return None
    if len(raw) > 64 or not pattern.match(raw):
        raise ValidationFailed(details=[{"field": field, "problem": problem}])
    return raw


def _position(cursor: str | None, start: date, end: date) -> tuple[date, list[str | None]]:
    """The day and shard positions a cursor resumes at; the newest day of the range for the first page."""
    position = decode_cursor(cursor, KIND)
    if position is None:
        return end, [None] * AUDIT_SHARDS
    day = parse_day(position.get("d"), "cursor") if isinstance(position, dict) and isinstance(
        position.get("d"), str) else None
    shards = position.get("s") if isinstance(position, dict) else None
    if (day is None or not start <= day <= end or not isinstance(shards, list) or len(shards) != AUDIT_SHARDS
            or not all(is_position(shard) for shard in shards)):
        raise ValidationFailed(details=[{"field": "cursor", "problem": "not a cursor this list gave out"}])
    return day, shards


def _view(entry: Any) -> dict[str, Any]:
    return {"audit_id": entry.audit_id, "at": clock.iso(entry.at), "actor_key_id": entry.actor_key_id,
            "action": entry.action, "object_id": entry.object_id}


def list_audit(caller: Caller, query: dict[str, str], limit: int, cursor: str | None) -> dict[str, Any]:
    """A page of the tenant's records from ``to`` back to ``from`` (the last 7 days by default; a year at most)."""
    actor = _filter(query.get("actor"), ACTOR, "actor", "a key id")
    action = _filter(query.get("action"), ACTION, "action", "an action name, like lead.read")
    start, end = day_range(query.get("from"), query.get("to"), DEFAULT_DAYS, MAX_DAYS)
    day, positions = _position(cursor, start, end)
    entries: list[Any] = []
    resume: date | None = day
    for _visit in range(DAYS_PER_PAGE):
        got, positions = day_page(caller.tenant_id, day.isoformat(), positions, limit - len(entries),
                                            actor, action)
        entries += got
        if all(shard == DONE for shard in positions):
            if day == start:
                resume = None
                break
            day, positions = day - timedelta(days=1), [None] * AUDIT_SHARDS
            resume = day
        if len(entries) >= limit:
            break
    audit.record(caller.tenant_id, caller.key_id, "audit.read", None)
    next_cursor = encode_cursor(KIND, {"d": resume.isoformat(), "s": positions}) if resume else None
    return {"items": [_view(entry) for entry in entries], "next_cursor": next_cursor}
