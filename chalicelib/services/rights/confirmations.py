"""Proof by the person: confirmation links for marketing grants and for identifiers added publicly.

The widget key is public and anyone may know a phone number or an e-mail, so what a public
submission asserts about a person waits for that person:
- a marketing grant is pending until a link sent to the address it is for is followed (double
  opt-in); the ledger keeps the pending entry and the confirming one, each with its proof;
- an identifier added to an existing lead is pending until a link sent to the lead's own known
  address is followed (the person who owns the lead vouches for it), or staff accept it.
The link is a single-use token (:mod:`chalicelib.services.rights.one_time`); the message is
transactional and carries no marketing.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from chalicelib import clock, notify
from chalicelib.config import get_settings
from chalicelib.errors import IdentifierTaken, NotFound
from chalicelib.services import audit, event_log
from chalicelib.services.access.auth import Caller
from chalicelib.services.leads.reading import lead_view, visible_lead
from chalicelib.services.rights import one_time
from chalicelib.services.rights.people import locate_owner
from chalicelib.services.rights.preferences import preferences_url
from chalicelib.services.rights.purposes import MARKETING, consent_summary
from chalicelib.services.tenants import brand
from chalicelib.services.tenants.tenancy import Tenant, expiry, require_tenant
from chalicelib.services.validation import StrictInput, parse_input
from chalicelib.store import consents, leads, timeline
from chalicelib.store.changes import save
from chalicelib.store.leads import LeadChanges
from chalicelib.store.tokens import Token
from chalicelib.vault.blind_index import blind_index
from chalicelib.vault.minimise import truncate_ip

CONFIRM_DAYS = 7
MAX_ROUNDS = 5
PURPOSE_WORDS = {"marketing_email": "offers by e-mail", "marketing_sms": "offers by text message",
                 "marketing_calls": "offers by phone call"}
KIND_WORDS = {"email": "e-mail address", "phone": "phone number"}


class ConfirmInput(StrictInput):
    token: str


class AcceptInput(StrictInput):
    kind: Literal["email", "phone"]


def issue(
    tenant_id: str, owner: str, *, identifiers: dict[str, str] | None = None, consent_event: str | None = None,
    purposes: list[str] | None = None, policy_version: str | None = None,
) -> tuple[str, Token]:
    """A confirmation token for what a public submission asserted (ids and blind indexes only)."""
    target = {"owner": owner, "identifiers": identifiers or {}, "consent_event": consent_event,
              "purposes": sorted(purposes or []), "policy_version": policy_version}
    return one_time.issue(tenant_id, one_time.CONFIRM, target, timedelta(days=CONFIRM_DAYS))


def confirm_url(token: str) -> str:
    """The hosted confirmation page; the token rides in the fragment, never in a server's logs."""
    return f"{get_settings().public_url}/v1/pages/confirm#token={token}"


def message_text(
    tenant: Tenant, purposes: list[str], pending: dict[str, str], token: str, replacing: frozenset[str] = frozenset(),
) -> str:
    """What the person reads, under the tenant's display name: exactly what they are asked to confirm, and that
    ignoring it is safe.

    A new identifier is shown whole (a mask would let a look-alike address pass for theirs); the
    message goes to the lead's own known address, so it tells the lead's owner only what was
    submitted about their lead.
    """
    asks = []
    if purposes:
        asks.append("that you want " + ", ".join(PURPOSE_WORDS.get(p, p) for p in sorted(purposes)))
    for kind, value in sorted(pending.items()):
        if kind in replacing:
            asks.append(f"replacing the {KIND_WORDS[kind]} we have for you with {value}")
        else:
            asks.append(f"adding the {KIND_WORDS[kind]} {value} to your details")
    return (f"{brand.display_name(tenant)}: please confirm " + " and ".join(asks) + f": {confirm_url(token)} "
            f"(valid {CONFIRM_DAYS} days). If this was not you, ignore this message: nothing changes.")


def send(tenant: Tenant, channel: str, to: str, owner: str, text: str) -> None:
    notify.send(brand.message(tenant, channel=channel, to=to, words="please confirm", text=text, kind="system",
                              preferences_url=preferences_url(tenant, owner)))


def confirm(body: dict[str, Any], source_ip: str | None) -> dict[str, Any]:
    """``POST /v1/confirmations``: follow a confirmation link (no key; the token is the proof)."""
    data = parse_input(ConfirmInput, body)
    target = one_time.spend(data.token, one_time.CONFIRM)
    tenant, owner = require_tenant(target["tenant_id"]), str(target["owner"])
    confirmed: dict[str, list[str]] = {"purposes": [], "identifiers": []}
    # Marketing first: an identifier that turns out taken (409) does not undo what the person confirmed.
    if target.get("purposes"):
        _confirm_marketing(tenant, owner, target, source_ip)
        confirmed["purposes"] = list(target["purposes"])
    if target.get("identifiers") and consents.subject_of(owner) is None:
        confirmed["identifiers"] = promote(tenant, owner, dict(target["identifiers"]), "proven", actor=None)
    return {"confirmed": confirmed}


def accept_pending(caller: Caller, lead_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /v1/leads/{id}/identifiers/accept``: staff vouch for a pending identifier (audited)."""
    lead = visible_lead(caller, lead_id)
    data = parse_input(AcceptInput, body)
    pending = (leads.open_profile(lead).get("pending") or {}).get(data.kind)
    if not pending:
        raise NotFound("This lead has no pending identifier of that kind.")
    tenant = require_tenant(lead.tenant_id)
    promote(tenant, lead.lead_id, {data.kind: blind_index(tenant, data.kind, pending["value"])}, "staff",
            actor=caller.key_id)
    return lead_view(visible_lead(caller, lead_id))


def promote(tenant: Tenant, lead_id: str, identifiers: dict[str, str], provenance: str, actor: str | None) -> list[str]:
    """Make pending identifiers the lead's own: claim each, then move it into the profile."""
    tenant_id = tenant.tenant_id
    for _ in range(MAX_ROUNDS):
        lead = leads.live(tenant_id, lead_id)
        if lead is None:
            return []
        profile = leads.open_profile(lead)
        pending = dict(profile.get("pending") or {})
        kinds = [kind for kind, ref in sorted(identifiers.items())
                 if kind in pending and blind_index(tenant, kind, pending[kind]["value"]) == ref]
        if not kinds:
            return []  # superseded by a newer pending identifier, or already promoted
        for kind in kinds:
            _claim(tenant_id, kind, identifiers[kind], lead_id)
        identity = leads.identity_of(lead)
        held = leads.refs_of(lead)
        for kind in kinds:
            if held.get(kind) and held[kind] != identifiers[kind]:
                leads.release_claim(tenant_id, kind, held[kind], lead_id)
            profile[kind] = pending.pop(kind)["value"]
            identity[kind] = provenance
        if pending:
            profile["pending"] = pending
        else:
            profile.pop("pending", None)
        now = clock.now()
        changes = LeadChanges(profile=profile, identity=identity, refs={kind: identifiers[kind] for kind in kinds},
                              updated_at=now)
        if not leads.update(lead, changes):
            continue
        items: list[Any] = [timeline.new_event(leads.key_of(lead), "identity", now, lead.expires_at,
                                               info={"confirmed": kinds, "provenance": provenance},
                                               actor_key_id=actor)]
        if actor:
            items.append(audit.build(tenant_id, actor, "lead.identifier_accept", lead_id))
        save(*items)
        return kinds
    raise RuntimeError("identifier promotion did not settle")


def _claim(tenant_id: str, kind: str, ref: str, lead_id: str) -> None:
    """Take the identifier for the lead: free, already ours, or left by a lead that is gone."""
    if leads.take_claim(tenant_id, kind, ref, lead_id):
        return
    holder = leads.claim_holder(tenant_id, kind, ref)
    if holder is not None and leads.live(tenant_id, holder) is not None:
        raise IdentifierTaken()
    if not leads.take_claim(tenant_id, kind, ref, lead_id, holder=holder):
        raise IdentifierTaken()


def _confirm_marketing(tenant: Tenant, owner: str, target: dict[str, Any], source_ip: str | None) -> None:
    """The confirming ledger entry, pointing at the pending one; the lead's summary follows."""
    now = clock.now()
    grants = {purpose: True for purpose in target["purposes"] if purpose in MARKETING}
    info = {"grants": grants, "policy_version": target.get("policy_version"), "source": "double_opt_in",
            "confirms": target.get("consent_event"), "ip_prefix": truncate_ip(source_ip)}
    save(consents.new_entry(tenant.tenant_id, owner, now, expiry(tenant, "consents", now), info),
         event_log.consent_changed(tenant, owner, list(grants), "double_opt_in") if grants else None)
    if consents.subject_of(owner) is not None:
        return
    person = locate_owner(tenant.tenant_id, owner)
    if person.lead is not None:
        leads.set_consents(person.lead, lambda current: consent_summary(current, grants, person.suppressed))
