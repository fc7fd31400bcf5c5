"""Finding a person from what they tell us (e-mail, phone, or a widget's visitor id).

Everything is looked up by blind index. A person without a lead still has a ledger: consents
given on a website before any form was sent live under a *subject owner* derived from the index.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chalicelib.errors import ValidationFailed
from chalicelib.services.leads.identifiers import normalise_email, normalise_phone
from chalicelib.services.tenants.tenancy import require_tenant
from chalicelib.store.batch import get_all
from chalicelib.store.models.claims import ClaimRecord, SuppressionRecord, claim_key, suppression_key
from chalicelib.vault.blind_index import blind_index

VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
KINDS = ("email", "phone", "visitor_id")


@dataclass(frozen=True)
class Identifier:
    tenant_id: str
    kind: str  # email | phone | visitor
    value: str  # normalised
    ref: str  # blind index

    @property
    def subject_owner(self) -> str:
        """The ledger partition for this identifier when no lead holds it."""
        return f"subject#{self.tenant_id}#{self.kind}#{self.ref}"


def identify(tenant_id: str, values: dict[str, object]) -> Identifier:
    """Exactly one of email, phone, visitor_id, normalised and indexed."""
    given = {kind: values.get(kind) for kind in KINDS if values.get(kind) is not None}
    if len(given) != 1:
        raise ValidationFailed(details=[{"field": "email|phone|visitor_id", "problem": "give exactly one"}])
    kind, raw = next(iter(given.items()))
    if not isinstance(raw, str) or len(raw) > 254:
        raise ValidationFailed(details=[{"field": kind, "problem": "must be text"}])
    try:
        if kind == "email":
            value = normalise_email(raw)
        elif kind == "phone":
            value = normalise_phone(raw, require_tenant(tenant_id).default_region)
        elif VISITOR_ID.match(raw):
            value = raw
        else:
            raise ValueError("8 to 64 letters, digits, _ or -")
    except ValueError as error:
        raise ValidationFailed(details=[{"field": kind, "problem": str(error)}]) from None
    short_kind = "visitor" if kind == "visitor_id" else kind
    return Identifier(tenant_id, short_kind, value, blind_index(tenant_id, short_kind, value))


@dataclass(frozen=True)
class Located:
    lead_id: str | None
    suppressed: bool


def locate(identifier: Identifier) -> Located:
    """The lead holding this identifier (if any) and whether marketing to it is suppressed: one read."""
    if identifier.kind == "visitor":
        return Located(None, False)
    ck = claim_key(identifier.tenant_id, identifier.kind, identifier.ref)
    sk = suppression_key(identifier.tenant_id, identifier.kind, identifier.ref)
    found = get_all([(ClaimRecord, ck), (SuppressionRecord, sk)])
    claim = found.get(ck)
    return Located(claim.lead_id if isinstance(claim, ClaimRecord) else None, sk in found)
