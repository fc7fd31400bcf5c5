"""What a tenant's retention report reads of its leads: expiry positions and legal holds, from ``by_tenant``.

The leads' ``by_tenant`` index orders each list shard by expiry (``list_sk`` is ``"<expiry stamp>#<lead id>"``;
a held lead has no expiry and sorts last, under :data:`chalicelib.store.leads.HELD`), so what expires in a
window is one range query per shard, and the held leads are the shard's tail. Only ``list_sk`` is asked for
where counting is all that is needed. Read-only; the leads repository owns the formats.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from chalicelib import clock
from chalicelib.store.leads import HELD, shard_partitions
from chalicelib.store.models.leads import LeadRecord

HELD_FROM = f"{HELD}#"
LEAD_ID = re.compile(r"^led_[0-9a-f]{20}$")


def expiry_stamps(tenant_id: str, start: datetime, end: datetime) -> Iterator[str]:
    """The expiry stamp of every lead of the tenant expiring from ``start`` (included) to ``end`` (excluded):
    one query per shard, its 1 MB pages followed, projecting the sort key alone."""
    low, high = clock.sort_stamp(start), clock.sort_stamp(end)
    for partition in shard_partitions(tenant_id):
        query = LeadRecord.by_tenant.query(partition, LeadRecord.list_sk.between(low, high),
                                           attributes_to_get=["list_sk"])
        for item in query:
            yield str(item.list_sk).split("#", 1)[0]


@dataclass(frozen=True)
class HeldPage:
    """Held leads in lead id order, how many the tenant holds in all, and the id to resume after (None: no more)."""

    leads: list[LeadRecord]
    count: int
    resume_after: str | None


def held(tenant_id: str, limit: int, after: str | None) -> HeldPage:
    """One page of the tenant's held leads (one query per shard, merged by lead id), and their count: the
    items read when every shard's tail fitted the page, else a ``COUNT`` query per shard."""
    found: list[LeadRecord] = []
    complete = True
    for partition in shard_partitions(tenant_id):
        condition = (LeadRecord.list_sk > f"{HELD_FROM}{after}" if after
                     else LeadRecord.list_sk.startswith(HELD_FROM))
        query = LeadRecord.by_tenant.query(partition, condition, limit=limit, page_size=limit)
        found += list(query)
        complete = complete and query.last_evaluated_key is None
    found.sort(key=lambda lead: str(lead.list_sk))
    page = found[:limit]
    more = len(found) > limit or not complete
    if complete and after is None:
        count = len(found)
    else:
        count = sum(LeadRecord.by_tenant.count(partition, LeadRecord.list_sk.startswith(HELD_FROM))
                    for partition in shard_partitions(tenant_id))
    return HeldPage(page, count, page[-1].lead_id if more and page else None)


def is_lead_id(value: object) -> bool:
    return isinstance(value, str) and bool(LEAD_ID.match(value))
