"""Removing a lead and everything that hangs off it: shared by erasure and the retention purge.

Order matters: the lead's data key goes first (``leads.shred``, crypto-shredding), so whatever a
crash leaves behind is already unreadable; every step here can run again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from chalicelib.runtime import HasTime
from chalicelib.store import field_work, leads, timeline
from chalicelib.store.events import Event
from chalicelib.store.leads import Claim, Lead

# The receipt's name for each kind of timeline event deleted. Calls are counted from the calls
# themselves (``delete_calls``); a ``call`` event is only the timeline copy older data may hold.
EVENT_KINDS = {"submission": "submissions", "call": "call_events", "consent": "consents",
               "stage_change": "stage_changes", "assignment_change": "assignment_changes",
               "notice": "notices"}



def delete_events(owner: str, has_time: HasTime) -> Counter[str] | None:
    """Delete an owner's timeline events (a lead's, or a subject ledger's), a few batches at a time;
    what was deleted by kind, or None if time ran out first."""
    erased: Counter[str] = Counter()
    while True:
        if not has_time():
            return None
        page = timeline.delete_some(owner)
        if not page:
            return erased
        erased.update(EVENT_KINDS.get(event.type, event.type) for event in page)


def delete_calls(lead_id: str) -> Counter[str]:
    """Delete the lead's calls (its agents' copies of them); how many, for a receipt."""
    deleted = field_work.delete_calls_of_lead(lead_id)
    return Counter(calls=deleted) if deleted else Counter()


def delete_lead_history(lead: Lead, has_time: HasTime) -> Counter[str] | None:
    """Delete a lead's calls, then its timeline events; None if time ran out first.

    A lead never contacted has no calls (storing a call moves ``last_contacted_at``), so its calls
    are not looked up: the purge of uncalled leads costs no query of the calls index.
    """
    if not has_time():
        return None
    lead_id = lead.lead_id
    calls = delete_calls(lead_id) if lead.last_contacted_at is not None else Counter()
    erased = delete_events(lead_id, has_time)
    return None if erased is None else erased + calls


def delete_leads(removed: Sequence[Lead], claims: Sequence[Claim], events: Sequence[Event] = ()) -> Counter[str]:
    """Delete the given claims, the leads' idempotency records and links, then the leads themselves with
    their ``lead.erased`` events (one batch)."""
    return Counter(leads.delete(removed, claims, events))
