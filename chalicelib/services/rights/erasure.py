"""Erasure that reaches every copy: shred the key first, then delete, suppress, and tell the person.

Phases are recorded on the request, and every phase is safe to run again, so a run cut short
by the Lambda's deadline (or a crash) simply continues on the next tick:
``locate`` (and suppress) -> ``shred`` -> ``delete`` -> completed (the person is told, by the worker).
The suppression list is written first, so a submission racing the erasure never revives marketing.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Literal

from chalicelib import clock
from chalicelib.runtime import HasTime
from chalicelib.services import event_log
from chalicelib.services.leads.removal import delete_calls, delete_events, delete_leads
from chalicelib.services.rights.locate import find_person
from chalicelib.store import consents, events, leads, privacy, webhooks
from chalicelib.store.privacy import PrivacyRequest

# Where a run leaves an erasure: refused by a legal hold, cut short by the deadline, or done.
Progress = Literal["held", "unfinished", "erased"]


def run_erasure(request: PrivacyRequest, has_time: HasTime) -> Progress:
    """Advance the erasure as far as time allows."""
    if request.phase in (None, "locate") and not _locate(request):
        return "held"
    if request.phase == "shred":
        _shred(request)
    if request.phase == "delete" and not _delete(request, has_time):
        return "unfinished"
    return "erased"


def _locate(request: PrivacyRequest) -> bool:
    """Fix the plan (leads, identifiers); False if a legal hold forbids the erasure.

    Timeline events are counted as they are deleted, so each is read once, not twice.
    """
    kind, ref = privacy.identifier_of(request)
    person = find_person(request.tenant_id, kind, ref)
    if any(lead.legal_hold for lead in person.leads):
        return False
    counts: Counter[str] = Counter(leads=len(person.leads))
    counts["identity_claims"] = len(person.identifiers) if person.leads else 0
    counts["idempotency_records"] = sum(len(lead.idempotency_refs or ()) + len(lead.confirm_refs or ())
                                        for lead in person.leads)
    # A keyed hash of each identifier goes on the suppression list: marketing never resumes.
    leads.suppress(request.tenant_id, person.identifiers, clock.now())
    privacy.plan_erasure(request, person.lead_ids, person.identifiers, {k: int(v) for k, v in counts.items()})
    return True


def _shred(request: PrivacyRequest) -> None:
    """Crypto-shredding: remove each lead's data key, so every sealed copy, backups too, is unreadable."""
    for lead_id in privacy.lead_ids_of(request):
        leads.shred(request.tenant_id, lead_id)
    privacy.set_phase(request, "delete")


def _delete(request: PrivacyRequest, has_time: HasTime) -> bool:
    """Delete calls, timeline events, claims, idempotency records, then the leads; False when out of time."""
    refs = privacy.person_refs_of(request)
    lead_ids = privacy.lead_ids_of(request)
    subjects = [consents.subject_owner(request.tenant_id, kind, ref) for kind, ref in sorted(refs.items())]
    for owner in [*lead_ids, *subjects]:
        if owner in lead_ids:
            if not has_time():
                return False
            _count(request, delete_calls(owner))
        erased = delete_events(owner, has_time)
        if erased is None:
            return False
        _count(request, erased)
    if not has_time():
        return False
    removed = list(leads.many(lead_ids).values())
    # Only claims still naming an erased lead: a submission racing the erasure may own one by now.
    claims = [claim for claim in leads.look_up(request.tenant_id, refs).claims.values() if claim.lead_id in lead_ids]
    # Each lead's ``lead.erased`` goes in the batch that deletes it; its id is fixed by the lead, so a rerun
    # of this step (cut short after the batch) writes the same event again, never a second one.
    erased = [event_log.build(request.tenant_id, "lead.erased", {
        "lead_id": lead.lead_id, "reason": "erasure"}, once_for=lead.lead_id) for lead in removed]
    delete_leads(removed, claims, erased)
    # The events' ids stay on the request; each is fixed by its lead, so a rerun that finds the leads gone
    # already (cut short after the batch) names the same events.
    privacy.set_phase(request, "notify", erased_events=[
        events.event_id_for(request.tenant_id, "lead.erased", lead_id) for lead_id in lead_ids])
    return True


def propagation(request: PrivacyRequest) -> list[dict[str, Any]] | None:
    """What LeadVault can prove it told the tenant's other systems: per webhook subscribed to ``lead.erased``
    when the erasure ran, how many of the erasure's events it was sent and acknowledged (a 2xx).

    Read from the delivery records when asked, since delivery follows the erasure on the event log's stream:
    ``pending`` means some event is not acknowledged yet and still being retried (or not yet picked up from
    the stream), ``acknowledged`` that every one was, ``failed`` that some delivery ran out of retries (or its
    webhook was disabled), ``not_told`` that the webhook was disabled when the events came. A webhook deleted
    since is not listed: its deliveries stay in the table until they expire, but its subscription is gone.
    None for anything but an erasure that deleted leads.
    """
    event_ids = privacy.erased_events_of(request)
    if request.type != "erasure" or not event_ids:
        return None
    cutoff = request.completed_at or clock.now()
    proof = []
    for subscription in webhooks.of_tenant(request.tenant_id):
        found = webhooks.deliveries_of(subscription.webhook_id, event_ids)
        if not found and ("lead.erased" not in subscription.event_types or subscription.created_at > cutoff):
            continue  # not subscribed when the erasure ran
        # Acknowledged once (``delivered_at``) stays acknowledged, whatever a later redelivery answered.
        acked = [delivery for delivery in found if delivery.status == "delivered" or delivery.delivered_at]
        acknowledged = len(acked)
        if acknowledged == len(event_ids):
            status = "acknowledged"
        elif any(delivery.status == "failed" and delivery.next_attempt_at is None and not delivery.delivered_at
                 for delivery in found):
            status = "failed"
        elif subscription.status != "active":
            status = "failed" if found else "not_told"
        else:
            status = "pending"
        proof.append({"webhook_id": subscription.webhook_id, "events": len(event_ids), "told": len(found),
                      "acknowledged": acknowledged, "status": status})
    return proof


def _count(request: PrivacyRequest, erased: Counter[str]) -> None:
    """Add what a chunk erased to the receipt (a crash right before this misses one chunk's count)."""
    if not erased:
        return
    receipt = Counter(privacy.receipt_of(request))
    receipt.update(erased)
    privacy.set_receipt(request, {k: int(v) for k, v in receipt.items()})
