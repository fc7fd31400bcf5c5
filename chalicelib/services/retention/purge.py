"""``purge_expired`` (hourly) and ``retention_notices`` (daily): retention kept, not just promised.

DynamoDB's TTL deletes days late (and never in moto); reads already hide expired items, and the
purge deletes them. Leads are found through the list index, which is ordered by expiry, so a
run reads the due leads and nothing else; each lead takes its timeline, calls, claims and
idempotency records with it, key first. Audit records go day by day after the audit retention.
A run stops before the Lambda's deadline; the next run picks up what is still due.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from chalicelib import clock
from chalicelib.runtime import HasTime, time_left
from chalicelib.services import event_log
from chalicelib.services.leads.removal import delete_lead_history
from chalicelib.services.retention.notices import send_retention_notice
from chalicelib.services.tenants.tenancy import Tenant, require_tenant, retention_days
from chalicelib.store import leads, tenants
from chalicelib.store.audit import delete_day
from chalicelib.store.leads import Lead

SAFETY_MS = 3000
PAGE = 25
NOTICE_WINDOW = timedelta(hours=48)
DONE = "done"  # the position of a list shard whose every lead was re-dated
REDATE_TRIES = 3



def purge_expired(context: Any) -> dict[str, int]:
    has_time = time_left(context, SAFETY_MS)
    now = clock.now()
    purged: Counter[str] = Counter()
    for tenant in tenants.every_tenant():
        if tenant.redate_pending and not _redate(tenant, has_time, purged):
            return {**purged, "unfinished": 1}
        if not _purge_leads(tenant, now, has_time, purged):
            return {**purged, "unfinished": 1}
        if not _purge_audit(tenant, now, has_time, purged):
            return {**purged, "unfinished": 1}
    return {**purged, "unfinished": 0}


def _purge_leads(tenant: Tenant, now: datetime, has_time: HasTime, purged: Counter[str]) -> bool:
    """Walk the tenant's due leads in expiry order, shard by shard, page by page; False when time runs out."""
    for lead in leads.due(tenant.tenant_id, now, PAGE):
        if not has_time():
            return False
        outcome = purge_lead(lead, now, has_time)
        if outcome is None:
            return False
        purged.update(outcome)
    return True


def purge_lead(lead: Lead, now: datetime, has_time: HasTime) -> Counter[str] | None:
    """Remove one expired lead and all it holds; None when time ran out (the next run resumes)."""
    if lead.wrapped_key and not leads.shred(lead.tenant_id, lead.lead_id, only_if_due=now):
        return Counter(skipped_renewed=1)  # activity or a hold moved it on since the index was read
    erased = delete_lead_history(lead, has_time)
    if erased is None:
        return None
    # Its ``lead.erased`` goes in the batch that deletes it, its id fixed by the lead (a rerun rewrites it).
    erased.update(leads.delete([lead], leads.own_claims([lead]), [event_log.build(
        lead.tenant_id, "lead.erased", {"lead_id": lead.lead_id, "reason": "retention"}, once_for=lead.lead_id)]))
    return erased


def _redate(tenant: Tenant, has_time: HasTime, counts: Counter[str]) -> bool:
    """Give every lead of the tenant the expiry its last activity earns under the current retention."""
    days = timedelta(days=retention_days(tenant, "leads"))
    positions = tenants.redate_positions_of(tenant)
    for shard in range(leads.LIST_SHARDS):
        while positions.get(str(shard)) != DONE:
            if not has_time():
                tenants.save_redate_positions(tenant, positions)
                return False
            page, next_position = leads.page_from(tenant.tenant_id, shard, PAGE, positions.get(str(shard)))
            changes = [(lead, lead.last_activity_at + days) for lead in page
                       if lead.expires_at and lead.wrapped_key and lead.expires_at != lead.last_activity_at + days]
            for _attempt in range(REDATE_TRIES):
                refused = leads.set_expiry_if_unchanged(changes)
                counts["leads_redated"] += len(changes) - len(refused)
                if not refused:
                    break
                fresh = leads.many(lead.lead_id for lead in refused)  # changed meanwhile: read again, redo
                changes = [(lead, lead.last_activity_at + days) for lead in fresh.values() if lead.expires_at]
            positions[str(shard)] = next_position or DONE
    tenants.finish_redate(tenant)
    return True


def _purge_audit(tenant: Tenant, now: datetime, has_time: HasTime, purged: Counter[str]) -> bool:
    """Delete audit days older than the tenant's audit retention, oldest first, remembering the last."""
    keep_from = (now - timedelta(days=retention_days(tenant, "audit"))).date()
    last_purged = tenants.audit_purged_through(tenant)
    day = last_purged + timedelta(days=1) if last_purged else tenant.created_at.date()
    while day < keep_from:
        if not has_time():
            return False
        purged["audit_records"] += delete_day(tenant.tenant_id, day)
        tenants.mark_audit_purged(tenant, day)
        day += timedelta(days=1)
    return True


def retention_notices(context: Any) -> dict[str, int]:
    """Tell each person with a contact, once per expiry, that retention will erase their data within 48 hours."""
    has_time = time_left(context, SAFETY_MS)
    now = clock.now()
    sent: Counter[str] = Counter()
    for listed in tenants.every_tenant():
        tenant: Tenant | None = None  # all its settings, read only if someone is to be told
        for lead in leads.expiring_between(listed.tenant_id, now, now + NOTICE_WINDOW):
            if not has_time():
                return {**sent, "unfinished": 1}
            tenant = tenant or require_tenant(listed.tenant_id)
            sent[send_retention_notice(lead, tenant, now)] += 1
    return {**sent, "unfinished": 0}
