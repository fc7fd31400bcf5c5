"""Finding a person from what they tell us (e-mail, phone, or a widget's visitor id), or from a link.

Everything is looked up by blind index. A person without a lead still has a ledger: consents
given on a website before any form was sent live under a *subject ledger* derived from the index.
Whether a person is suppressed (erased before: marketing never resumes) is answered here and only
here, by :func:`is_suppressed`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from chalicelib.errors import ValidationFailed
from chalicelib.services.leads.identifiers import normalise_email, normalise_phone
from chalicelib.services.tenants.tenancy import Tenant
from chalicelib.store import consents, leads
from chalicelib.store.leads import IDENTIFIER_KINDS, Lead
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
        """The ledger for this identifier when no lead holds it."""
        return consents.subject_owner(self.tenant_id, self.kind, self.ref)


def identify(tenant: Tenant, values: dict[str, object]) -> Identifier:
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
            value = normalise_phone(raw, tenant.default_region)
        elif VISITOR_ID.match(raw):
            value = raw
        else:
            raise ValueError("8 to 64 letters, digits, _ or -")
    except ValueError as error:
        raise ValidationFailed(details=[{"field": kind, "problem": str(error)}]) from None
    short_kind = "visitor" if kind == "visitor_id" else kind
    return Identifier(tenant.tenant_id, short_kind, value, blind_index(tenant, short_kind, value))


@dataclass(frozen=True)
class Located:
    """Who a person is to us: the lead that holds their identifier (if any) and whether they are suppressed."""

    holder_id: str | None  # the lead the identifier's claim names, live or not
    lead: Lead | None  # that lead, when it is live
    suppressed: bool


def is_suppressed(listed: bool, lead: Lead | None) -> bool:
    """The one answer to "is marketing off for good?": an identifier of the person is on the suppression
    list, or their lead was marked when an identifier on that list reached it."""
    return listed or bool(lead is not None and lead.marketing_suppressed)


def locate(identifier: Identifier) -> Located:
    """The lead holding this identifier and whether the person is suppressed: one batch read (and the lead)."""
    if identifier.kind not in IDENTIFIER_KINDS:
        return Located(None, None, False)  # a visitor id is never claimed nor suppressed
    found = leads.look_up(identifier.tenant_id, {identifier.kind: identifier.ref})
    claim = found.claims.get(identifier.kind)
    holder_id = claim.lead_id if claim is not None else None
    lead = leads.live(identifier.tenant_id, holder_id)
    return Located(holder_id, lead, is_suppressed(found.suppressed, lead))


def locate_owner(tenant_id: str, owner: str) -> Located:
    """The person behind a ledger owner named in a link we sent: their lead, or a subject ledger."""
    subject = consents.subject_of(owner)
    if subject is not None:
        kind, ref = subject
        listed = kind in IDENTIFIER_KINDS and leads.look_up(tenant_id, {kind: ref}).suppressed
        return Located(None, None, listed)
    lead = leads.live(tenant_id, owner)
    refs = leads.refs_of(lead) if lead is not None else {}
    listed = bool(refs) and leads.look_up(tenant_id, refs).suppressed
    return Located(owner, lead, is_suppressed(listed, lead))
