"""``GET /v1/reports/calls?from&to``: calls per agent per day (stored, ignored by reason) and shifts.

Read from the daily counts the call uploads and shifts keep as they are written (``field_work_days``, one
query per month spanned), never from the calls themselves. Days are UTC; a shift counts on the day it
started, its minutes once it has closed.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from chalicelib.services.access.auth import Caller
from chalicelib.services.reports.dates import day_range, days
from chalicelib.store import field_work
from chalicelib.store.field_work import IGNORED_REASONS, DayCount

DEFAULT_DAYS = 7
MAX_DAYS = 31


def _agent_view(count: DayCount) -> dict[str, Any]:
    return {"agent_id": count.agent_id, "stored": count.stored,
            "ignored": {reason: count.ignored.get(reason, 0) for reason in IGNORED_REASONS},
            "shifts": count.shifts, "shift_minutes": count.shift_minutes}


def calls_report(caller: Caller, raw_from: str | None, raw_to: str | None) -> dict[str, Any]:
    """Every day of the range (today's week by default; 31 days at most), each with its agents by id."""
    start, end = day_range(raw_from, raw_to, DEFAULT_DAYS, MAX_DAYS)
    by_day: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for count in field_work.counted_days(caller.tenant_id, start, end):
        by_day[count.day.isoformat()].append(_agent_view(count))
    return {"from": start.isoformat(), "to": end.isoformat(),
            "days": [{"date": day.isoformat(), "agents": by_day.get(day.isoformat(), [])}
                     for day in days(start, end)]}
