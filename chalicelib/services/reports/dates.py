"""The day ranges reports take (``?from=YYYY-MM-DD&to=YYYY-MM-DD``, UTC days, both inclusive)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from chalicelib import clock
from chalicelib.errors import ValidationFailed

DAY = re.compile(r"^\d{4}-\d\d-\d\d$")


def parse_day(raw: str | None, field: str) -> date | None:
    """A ``YYYY-MM-DD`` day, or None when not given; anything else is a 400 naming the field (never echoing it)."""
    if raw is None:
        return None
    try:
        if not DAY.match(raw):
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(details=[{"field": field, "problem": "a day as YYYY-MM-DD"}]) from None


def day_range(raw_from: str | None, raw_to: str | None, default_days: int, max_days: int) -> tuple[date, date]:
    """``(from, to)``: by default the ``default_days`` up to today (or from ``from``, or up to ``to``);
    ``to`` not before ``from`` and at most ``max_days`` days in all."""
    start, end = parse_day(raw_from, "from"), parse_day(raw_to, "to")
    span = timedelta(days=default_days - 1)
    try:
        if end is None:
            end = start + span if start is not None else clock.now().date()
        if start is None:
            start = end - span
    except OverflowError:  # the edge of the calendar
        raise ValidationFailed(details=[{"field": "from" if raw_from else "to", "problem": "out of range"}]) from None
    if end < start:
        raise ValidationFailed(details=[{"field": "to", "problem": "not before from"}])
    if (end - start).days + 1 > max_days:
        raise ValidationFailed(details=[{"field": "to", "problem": f"at most {max_days} days after from"}])
    return start, end


def days(start: date, end: date) -> list[date]:
    """Every day from ``start`` to ``end``, both included."""
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]
