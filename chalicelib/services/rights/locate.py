"""Everything held about one person, found through blind indexes and their lead, never by Scan.

Reads grow with the person's own data: one batch read of claims, one of the lead, and one
query per ledger (the lead's timeline and calls, each identifier's subject ledger).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.store import consents, leads
from chalicelib.store.leads import Lead


@dataclass
class Person:
    tenant_id: str
    identifiers: dict[str, str] = field(default_factory=dict)  # kind -> blind index
    leads: list[Lead] = field(default_factory=list)

    @property
    def lead_ids(self) -> list[str]:
        return [lead.lead_id for lead in self.leads]

    def subject_owners(self) -> list[str]:
        """The subject ledgers of the person's identifiers (consents given where no lead held them)."""
        return [consents.subject_owner(self.tenant_id, kind, ref) for kind, ref in sorted(self.identifiers.items())]


def find_person(tenant_id: str, kind: str, ref: str) -> Person:
    """The person behind one identifier, with their lead and that lead's other identifiers."""
    person = Person(tenant_id, {kind: ref})
    holders = leads.holders(tenant_id, {kind: ref})
    found = leads.many(holders.values())
    person.leads = [lead for lead in found.values() if lead.tenant_id == tenant_id]
    for lead in person.leads:
        person.identifiers.update(leads.refs_of(lead))
    return person
