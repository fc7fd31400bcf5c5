"""Removing a lead and everything that hangs off it: shared by erasure and the retention purge.

Order matters: the lead's data key goes first (crypto-shredding), so whatever a crash leaves
behind is already unreadable; every step can run again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

from pynamodb.exceptions import UpdateError

from chalicelib.services.rights.locate import call_key_of
from chalicelib.store.base import LeadVaultModel
from chalicelib.store.batch import BATCH_WRITE_LIMIT, write_all
from chalicelib.store.models.calls import CallRecord
from chalicelib.store.models.claims import IdempotencyRecord
from chalicelib.store.models.leads import LeadRecord
from chalicelib.store.models.timeline import TimelineRecord
from chalicelib.vault import envelope

EVENT_KINDS = {"submission": "submissions", "call": "calls", "consent": "consents", "stage_change": "stage_changes",
               "notice": "notices"}


def shred(tenant_id: str, lead_id: str, condition: object | None = None) -> bool:
    """Remove the lead's key and sealed profile; False if the lead is gone or the condition fails."""
    guard = LeadRecord.lead_id.exists()
    if condition is not None:
        guard = guard & condition  # type: ignore[operator]
    try:
        LeadRecord(lead_id).update(actions=[LeadRecord.wrapped_key.remove(), LeadRecord.sealed.remove()],
                                   condition=guard)
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    finally:
        envelope.forget_key(tenant_id, lead_id)
    return True


def delete_events(tenant_id: str, owner: str, has_time: Callable[[], bool]) -> Counter[str] | None:
    """Delete an owner's timeline events and the calls they stand for; None if time ran out first."""
    erased: Counter[str] = Counter()
    while True:
        if not has_time():
            return None
        page = list(TimelineRecord.query(owner, limit=BATCH_WRITE_LIMIT * 4, consistent_read=True))
        if not page:
            return erased
        calls = [key for key in (call_key_of(tenant_id, event) for event in page) if key]
        write_all(deletes=[*(CallRecord(hash_key, range_key) for hash_key, range_key in calls), *page])
        erased.update(EVENT_KINDS.get(event.type, event.type) for event in page)


def delete_leads(leads: Iterable[LeadRecord], claims: Iterable[LeadVaultModel]) -> Counter[str]:
    """Delete the given claims, the leads' idempotency records, then the leads themselves."""
    leads, claims = list(leads), list(claims)
    idempotency = [IdempotencyRecord(pk) for lead in leads
                   for pk in [*(lead.idempotency_refs or ()), *(lead.confirm_refs or ())]]
    write_all(deletes=[*claims, *idempotency])
    write_all(deletes=leads)
    return Counter(identity_claims=len(claims), idempotency_records=len(idempotency), leads=len(leads))
