"""Everything held about one person, found through blind indexes and their lead, never by Scan.

Reads grow with the person's own data: one batch read of claims, one of the lead, and one
query per ledger partition (the lead's timeline, each identifier's subject ledger).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from chalicelib.store.base import plain
from chalicelib.store.batch import get_all
from chalicelib.store.models.calls import CallRecord
from chalicelib.store.models.claims import ClaimRecord, claim_key
from chalicelib.store.models.leads import LeadRecord
from chalicelib.store.models.shifts import agent_key
from chalicelib.store.models.timeline import TimelineRecord


@dataclass
class Person:
    tenant_id: str
    identifiers: dict[str, str] = field(default_factory=dict)  # kind -> blind index
    lead_ids: list[str] = field(default_factory=list)
    leads: list[LeadRecord] = field(default_factory=list)

    def owners(self) -> list[str]:
        """Every ledger partition of the person: their leads and their identifiers' subject ledgers."""
        subjects = [f"subject#{self.tenant_id}#{kind}#{ref}" for kind, ref in sorted(self.identifiers.items())]
        return [*self.lead_ids, *subjects]

    def claim_keys(self) -> list[str]:
        return [claim_key(self.tenant_id, kind, ref) for kind, ref in sorted(self.identifiers.items())]


def find_person(tenant_id: str, kind: str, ref: str, known_lead_ids: list[str] | None = None) -> Person:
    """The person behind one identifier, with their lead and that lead's other identifiers."""
    person = Person(tenant_id, {kind: ref}, list(known_lead_ids or []))
    if not person.lead_ids:
        found = get_all([(ClaimRecord, claim_key(tenant_id, kind, ref))])
        person.lead_ids = [claim.lead_id for claim in found.values() if isinstance(claim, ClaimRecord)]
    if person.lead_ids:
        person.leads = [lead for lead in LeadRecord.batch_get(person.lead_ids, consistent_read=True)
                        if lead.tenant_id == tenant_id]
        for lead in person.leads:
            if lead.phone_ref:
                person.identifiers["phone"] = lead.phone_ref
            if lead.email_ref:
                person.identifiers["email"] = lead.email_ref
    return person


def events_of(owner: str) -> Iterator[TimelineRecord]:
    return TimelineRecord.query(owner, consistent_read=True)


def call_key_of(tenant_id: str, event: TimelineRecord) -> tuple[str, str] | None:
    """The call record a timeline ``call`` event stands for."""
    info = plain(event.info)
    if event.type != "call" or not info.get("agent_id") or not info.get("call_id"):
        return None
    return agent_key(tenant_id, str(info["agent_id"])), str(info["call_id"])


def calls_of(tenant_id: str, events: list[TimelineRecord]) -> list[CallRecord]:
    keys = [key for key in (call_key_of(tenant_id, event) for event in events) if key]
    return list(CallRecord.batch_get(keys, consistent_read=True)) if keys else []
