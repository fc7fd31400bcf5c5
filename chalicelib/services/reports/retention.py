"""``GET /v1/reports/retention``: how many leads reach their expiry on each of the next 30 days, and the legal holds.

Counted from the leads' expiry order (one range query per list shard, the sort key alone projected), so the
cost follows the leads expiring in the window, never the tenant's size. Held leads have no expiry: their ids
and the hold's reason are listed (paged, ``?limit&cursor``), which opens no personal data; the read is audited.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta
from typing import Any

from chalicelib import clock
from chalicelib.errors import ValidationFailed
from chalicelib.services import audit
from chalicelib.services.access.auth import Caller
from chalicelib.services.pagination import decode_cursor, encode_cursor
from chalicelib.store import lead_expiry

DAYS = 30
KIND = "retention:holds"


def expiring_by_day(tenant_id: str, now: datetime) -> list[dict[str, Any]]:
    """Today (from now on) and the 29 days after it: how many live leads expire on each UTC day."""
    today = now.date()
    end = datetime.combine(today + timedelta(days=DAYS), time(), tzinfo=now.tzinfo)
    counts = Counter(stamp[:10] for stamp in lead_expiry.expiry_stamps(tenant_id, now, end))
    return [{"date": day.isoformat(), "expiring": counts.get(day.isoformat(), 0)}
            for day in (today + timedelta(days=n) for n in range(DAYS))]


def retention_report(caller: Caller, limit: int, cursor: str | None) -> dict[str, Any]:
    after = decode_cursor(cursor, KIND)
    if after is not None and not lead_expiry.is_lead_id(after):
        raise ValidationFailed(details=[{"field": "cursor", "problem": "not a cursor this report gave out"}])
    now = clock.now()
    holds = lead_expiry.held(caller.tenant_id, limit, after)
    audit.record(caller.tenant_id, caller.key_id, "report.retention", None)
    return {
        "from": now.date().isoformat(),
        "days": expiring_by_day(caller.tenant_id, now),
        "legal_holds": {
            "count": holds.count,
            "items": [{"lead_id": lead.lead_id, "reason": lead.legal_hold_reason or "",
                       "since": None} for lead in holds.leads],
            "next_cursor": encode_cursor(KIND, holds.resume_after) if holds.resume_after else None,
        },
    }
