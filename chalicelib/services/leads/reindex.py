"""Backfill of the activity lists: leads written before ``by_activity`` existed carry no activity position,
so no staff list shows them until this gives them one (``cli reindex-leads``; idempotent, resumable)."""

from __future__ import annotations

from chalicelib.store import leads, tenants
from chalicelib.store.leads import LIST_SHARDS

PAGE = 200


def reindex_activity() -> int:
    """Walk every tenant's leads (the expiry index, shard by shard) and fill in missing activity positions;
    how many were filled."""
    filled = 0
    for tenant in tenants.every_tenant():
        for shard in range(LIST_SHARDS):
            position: str | None = None
            while True:
                page, position = leads.page_from(tenant.tenant_id, shard, PAGE, position)
                filled += sum(1 for lead in page if lead.activity_sk is None and leads.fill_activity_position(lead))
                if position is None:
                    break
    return filled
