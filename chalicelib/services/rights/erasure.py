"""Erasure that reaches every copy: shred the key first, then delete, suppress, and tell the person.

Phases are recorded on the request, and every phase is safe to run again, so a run cut short
by the Lambda's deadline (or a crash) simply continues on the next tick:
``locate`` (and suppress) -> ``shred`` -> ``delete`` -> completed (the person is told).
The suppression list is written first, so a submission racing the erasure never revives marketing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from chalicelib import clock
from chalicelib.services.leads.removal import delete_events, delete_leads, shred
from chalicelib.services.rights.locate import find_person
from chalicelib.store.base import plain
from chalicelib.store.batch import get_all, write_all
from chalicelib.store.models.claims import ClaimRecord, SuppressionRecord, claim_key, suppression_key
from chalicelib.store.models.leads import LeadRecord
from chalicelib.store.models.privacy import PrivacyRequestRecord

HasTime = Callable[[], bool]


def run_erasure(record: PrivacyRequestRecord, has_time: HasTime) -> bool:
    """Advance the erasure as far as time allows; True once it is final."""
    from chalicelib.services.rights.worker import finish, reject

    if record.phase in (None, "locate") and not _locate(record):
        reject(record, "legal_hold")
        return True
    if record.phase == "shred":
        _shred(record)
    if record.phase == "delete" and not _delete(record, has_time):
        return False
    finish(record)
    return True


def _refs(record: PrivacyRequestRecord) -> dict[str, str]:
    return dict(ref.split(":", 1) for ref in record.person_refs or [record.identifier_ref])


def _locate(record: PrivacyRequestRecord) -> bool:
    """Fix the plan (leads, identifiers); False if a legal hold forbids the erasure.

    Timeline events are counted as they are deleted, so each is read once, not twice.
    """
    kind, ref = record.identifier_ref.split(":", 1)
    person = find_person(record.tenant_id, kind, ref)
    if any(lead.legal_hold for lead in person.leads):
        return False
    counts: Counter[str] = Counter(leads=len(person.leads))
    counts["identity_claims"] = len(person.claim_keys()) if person.leads else 0
    counts["idempotency_records"] = sum(len(lead.idempotency_refs or ()) + len(lead.confirm_refs or ())
                                        for lead in person.leads)
    _suppress(record.tenant_id, person.identifiers)
    record.update(actions=[
        PrivacyRequestRecord.phase.set("shred"),
        PrivacyRequestRecord.lead_ids.set([lead.lead_id for lead in person.leads]),
        PrivacyRequestRecord.person_refs.set([f"{k}:{v}" for k, v in sorted(person.identifiers.items())]),
        PrivacyRequestRecord.receipt.set({k: int(v) for k, v in counts.items()}),
    ])
    return True


def _shred(record: PrivacyRequestRecord) -> None:
    """Crypto-shredding: remove each lead's data key, so every sealed copy, backups too, is unreadable."""
    for lead_id in record.lead_ids:
        shred(record.tenant_id, lead_id)
    record.update(actions=[PrivacyRequestRecord.phase.set("delete")])


def _delete(record: PrivacyRequestRecord, has_time: HasTime) -> bool:
    """Delete calls, timeline events, claims, idempotency records, then the leads; False when out of time."""
    refs = _refs(record)
    owners = [*record.lead_ids, *(f"subject#{record.tenant_id}#{k}#{v}" for k, v in sorted(refs.items()))]
    for owner in owners:
        erased = delete_events(record.tenant_id, owner, has_time)
        if erased is None:
            return False
        if erased:
            _count(record, erased)
    if not has_time():
        return False
    leads = list(LeadRecord.batch_get(record.lead_ids, consistent_read=True)) if record.lead_ids else []
    # Only claims still naming an erased lead: a submission racing the erasure may own one by now.
    keys = [claim_key(record.tenant_id, kind, ref) for kind, ref in refs.items()]
    claims = [claim for claim in get_all([(ClaimRecord, pk) for pk in keys]).values()
              if isinstance(claim, ClaimRecord) and claim.lead_id in record.lead_ids]
    delete_leads(leads, claims)
    record.update(actions=[PrivacyRequestRecord.phase.set("notify")])
    return True


def _count(record: PrivacyRequestRecord, erased: Counter[str]) -> None:
    """Add what a chunk erased to the receipt (a crash right before this misses one chunk's count)."""
    receipt = Counter(plain(record.receipt))
    receipt.update(erased)
    record.update(actions=[PrivacyRequestRecord.receipt.set({k: int(v) for k, v in receipt.items()})])


def _suppress(tenant_id: str, identifiers: dict[str, str]) -> None:
    """A keyed hash of each identifier goes on the suppression list: marketing never resumes."""
    now = clock.now()
    write_all([SuppressionRecord(suppression_key(tenant_id, kind, ref), added_at=now)
               for kind, ref in identifiers.items() if kind in ("phone", "email")])
