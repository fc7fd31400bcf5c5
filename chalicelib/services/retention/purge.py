"""``purge_expired`` (hourly) and ``retention_notices`` (daily): retention kept, not just promised.

DynamoDB's TTL deletes days late (and never in moto); reads already hide expired items, and the
purge deletes them. Leads are found through the list index, which is ordered by expiry, so a
run reads the due leads and nothing else; each lead takes its timeline, calls, claims and
idempotency records with it, key first. Audit records go day by day after the audit retention.
A run stops before the Lambda's deadline; the next run picks up what is still due.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib import clock
from chalicelib.runtime import time_left
from chalicelib.services.leads.removal import delete_events, delete_leads, shred
from chalicelib.services.tenants.tenancy import retention_days
from chalicelib.store.batch import get_all, write_all
from chalicelib.store.models.audit import AUDIT_SHARDS, AuditRecord
from chalicelib.store.models.claims import ClaimRecord, claim_key
from chalicelib.store.models.leads import LIST_SHARDS, LeadRecord, set_expiry_if_unchanged
from chalicelib.store.models.tenants import TenantRecord

SAFETY_MS = 3000
PAGE = 25
NOTICE_WINDOW = timedelta(hours=48)

HasTime = Callable[[], bool]


def _tenants() -> Iterator[TenantRecord]:
    """Every tenant (the tenants table grows with customers, not with their data)."""
    return TenantRecord.scan(attributes_to_get=["tenant_id", "retention_days", "created_at", "audit_purged_through",
                                                "redate_pending", "redate_positions"])


def purge_expired(context: Any) -> dict[str, int]:
    has_time = time_left(context, SAFETY_MS)
    now = clock.now()
    purged: Counter[str] = Counter()
    for tenant in _tenants():
        if tenant.redate_pending and not _redate(tenant, has_time, purged):
            return {**purged, "unfinished": 1}
        for shard in range(LIST_SHARDS):
            if not _purge_shard(tenant.tenant_id, shard, now, has_time, purged):
                return {**purged, "unfinished": 1}
        if not _purge_audit(tenant, now, has_time, purged):
            return {**purged, "unfinished": 1}
    return {**purged, "unfinished": 0}


def _purge_shard(tenant_id: str, shard: int, now: datetime, has_time: HasTime, purged: Counter[str]) -> bool:
    """Walk the shard's due leads in expiry order, page by page; False when time runs out."""
    due = LeadRecord.by_tenant.query(f"{tenant_id}#{shard}", LeadRecord.list_sk < clock.sort_stamp(now), page_size=PAGE)
    for lead in due:
        if not has_time():
            return False
        outcome = purge_lead(lead, now, has_time)
        if outcome is None:
            return False
        purged.update(outcome)
    return True


def purge_lead(lead: LeadRecord, now: datetime, has_time: HasTime) -> Counter[str] | None:
    """Remove one expired lead and all it holds; None when time ran out (the next run resumes)."""
    due = LeadRecord.expires_at.exists() & (LeadRecord.expires_at <= now) & LeadRecord.legal_hold.does_not_exist()
    if lead.wrapped_key and not shred(lead.tenant_id, lead.lead_id, condition=due):
        return Counter(skipped_renewed=1)  # activity or a hold moved it on since the index was read
    erased = delete_events(lead.tenant_id, lead.lead_id, has_time)
    if erased is None:
        return None
    refs = [claim_key(lead.tenant_id, kind, ref) for kind, ref in (("phone", lead.phone_ref), ("email", lead.email_ref))
            if ref]
    claims = [claim for claim in get_all([(ClaimRecord, pk) for pk in refs]).values()
              if isinstance(claim, ClaimRecord) and claim.lead_id == lead.lead_id] if refs else []
    erased.update(delete_leads([lead], claims))
    return erased


def _redate(tenant: TenantRecord, has_time: HasTime, counts: Counter[str]) -> bool:
    """Give every lead of the tenant the expiry its last activity earns under the current retention."""
    days = timedelta(days=retention_days(tenant.tenant_id, "leads"))
    positions = tenant.redate_positions.as_dict() if tenant.redate_positions else {}
    for shard in range(LIST_SHARDS):
        position = positions.get(str(shard))
        while position != "done":
            if not has_time():
                tenant.update(actions=[TenantRecord.redate_positions.set(positions)])
                return False
            start = None
            if position:
                start = {"list_pk": {"S": f"{tenant.tenant_id}#{shard}"}, "list_sk": {"S": position},
                         "lead_id": {"S": position.split("#")[-1]}}
            query = LeadRecord.by_tenant.query(f"{tenant.tenant_id}#{shard}", limit=PAGE, last_evaluated_key=start)
            page = list(query)
            changes = [(lead, lead.last_activity_at + days) for lead in page
                       if lead.expires_at and lead.wrapped_key and lead.expires_at != lead.last_activity_at + days]
            for _attempt in range(3):
                refused = set_expiry_if_unchanged(changes)
                counts["leads_redated"] += len(changes) - len(refused)
                if not refused:
                    break
                fresh = {lead.lead_id: lead for lead in LeadRecord.batch_get([r.lead_id for r in refused])}
                changes = [(lead, lead.last_activity_at + days) for lead in fresh.values() if lead.expires_at]
            position = page[-1].list_sk if page and query.last_evaluated_key else "done"
            positions[str(shard)] = position
    tenant.update(actions=[TenantRecord.redate_pending.remove(), TenantRecord.redate_positions.remove()])
    return True


def _purge_audit(tenant: TenantRecord, now: datetime, has_time: HasTime, purged: Counter[str]) -> bool:
    """Delete audit days older than the tenant's audit retention, oldest first, remembering the last."""
    keep_from = (now - timedelta(days=retention_days(tenant.tenant_id, "audit"))).date()
    start = date.fromisoformat(tenant.audit_purged_through) + timedelta(days=1) if tenant.audit_purged_through \
        else tenant.created_at.date()
    day = start
    while day < keep_from:
        if not has_time():
            return False
        doomed = [record for shard in range(AUDIT_SHARDS)
                  for record in AuditRecord.query(f"{tenant.tenant_id}#{day:%Y-%m-%d}#{shard}")]
        write_all(deletes=doomed)
        purged["audit_records"] += len(doomed)
        tenant.update(actions=[TenantRecord.audit_purged_through.set(day.isoformat())])
        day += timedelta(days=1)
    return True


def retention_notices(context: Any) -> dict[str, int]:
    """Tell each person with a contact, once per expiry, that retention will erase their data within 48 hours."""
    from chalicelib.services.retention.notices import send_retention_notice

    has_time = time_left(context, SAFETY_MS)
    now = clock.now()
    sent: Counter[str] = Counter()
    for tenant in _tenants():
        for shard in range(LIST_SHARDS):
            window = LeadRecord.list_sk.between(clock.sort_stamp(now), clock.sort_stamp(now + NOTICE_WINDOW))
            for lead in LeadRecord.by_tenant.query(f"{tenant.tenant_id}#{shard}", window):
                if not has_time():
                    return {**sent, "unfinished": 1}
                sent[send_retention_notice(lead, now)] += 1
    return {**sent, "unfinished": 0}
