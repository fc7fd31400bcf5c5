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

import json
from datetime import timedelta
from typing import Any, Literal

from chalicelib import clock
from chalicelib.config import get_settings
from chalicelib.errors import Conflict, NotFound
from chalicelib.services import audit
from chalicelib.services.leads.reading import lead_view, live_lead, open_profile, visible_lead
from chalicelib.services.leads.timeline import new_event
from chalicelib.services.rights import one_time
from chalicelib.services.rights.purposes import MARKETING, consent_summary
from chalicelib.services.tenants.tenancy import retention_days
from chalicelib.services.validation import StrictInput, parse_input
from chalicelib.store.base import plain
from chalicelib.store.batch import write_all
from chalicelib.store.models.claims import OneTimeTokenRecord, claim_holder, claim_key, release_claim, take_claim
from chalicelib.store.models.leads import LeadRecord, update_at_version
from chalicelib.vault import envelope
from chalicelib.vault.blind_index import blind_index
from chalicelib.vault.minimise import truncate_ip

CONFIRM_DAYS = 7
MAX_ROUNDS = 5
PURPOSE_WORDS = {"marketing_email": "offers by e-mail", "marketing_sms": "offers by text message",
                 "marketing_calls": "offers by phone call"}
KIND_WORDS = {"email": "e-mail address", "phone": "phone number"}


class IdentifierTaken(Conflict):
    code = "identifier_taken"
    default_message = "That e-mail address or phone number now belongs to another record; ask us to link them."


class ConfirmInput(StrictInput):
    token: str


class AcceptInput(StrictInput):
    kind: Literal["email", "phone"]


def issue(
    tenant_id: str, owner: str, *, identifiers: dict[str, str] | None = None, consent_event: str | None = None,
    purposes: list[str] | None = None, policy_version: str | None = None,
) -> tuple[str, OneTimeTokenRecord]:
    """A confirmation token for what a public submission asserted (ids and blind indexes only)."""
    target = {"owner": owner, "identifiers": identifiers or {}, "consent_event": consent_event,
              "purposes": sorted(purposes or []), "policy_version": policy_version}
    return one_time.issue(tenant_id, one_time.CONFIRM, target, timedelta(days=CONFIRM_DAYS))


def confirm_url(token: str) -> str:
    """The hosted confirmation page; the token rides in the fragment, never in a server's logs."""
    return f"{get_settings().public_url}/v1/pages/confirm#token={token}"


def message_text(
    tenant_name: str, purposes: list[str], pending: dict[str, str], token: str, replacing: frozenset[str] = frozenset(),
) -> str:
    """What the person reads: exactly what they are asked to confirm, and that ignoring it is safe.

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
    return (f"{tenant_name}: please confirm " + " and ".join(asks) + f": {confirm_url(token)} "
            f"(valid {CONFIRM_DAYS} days). If this was not you, ignore this message: nothing changes.")


def send(tenant: Any, channel: str, to: str, owner: str, text: str) -> None:
    from chalicelib.notify import Message
    from chalicelib.notify import send as deliver
    from chalicelib.services.rights.preferences import preferences_url

    deliver(Message(channel=channel, to=to, subject=f"{tenant.name}: please confirm", text=text, kind="system",
                    preferences_url=preferences_url(tenant.tenant_id, owner)))


def confirm(body: dict[str, Any], source_ip: str | None) -> dict[str, Any]:
    """``POST /v1/confirmations``: follow a confirmation link (no key; the token is the proof)."""
    data = parse_input(ConfirmInput, body)
    target = one_time.spend(data.token, one_time.CONFIRM)
    tenant_id, owner = target["tenant_id"], str(target["owner"])
    confirmed: dict[str, list[str]] = {"purposes": [], "identifiers": []}
    # Marketing first: an identifier that turns out taken (409) does not undo what the person confirmed.
    if target.get("purposes"):
        _confirm_marketing(tenant_id, owner, target, source_ip)
        confirmed["purposes"] = list(target["purposes"])
    if target.get("identifiers") and owner.startswith("led_"):
        confirmed["identifiers"] = promote(tenant_id, owner, dict(target["identifiers"]), "proven", actor=None)
    return {"confirmed": confirmed}


def accept_pending(caller: Any, lead_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /v1/leads/{id}/identifiers/accept``: staff vouch for a pending identifier (audited)."""
    lead = visible_lead(caller, lead_id)
    data = parse_input(AcceptInput, body)
    pending = (open_profile(lead).get("pending") or {}).get(data.kind)
    if not pending:
        raise NotFound("This lead has no pending identifier of that kind.")
    ref = blind_index(lead.tenant_id, data.kind, pending["value"])
    promote(lead.tenant_id, lead.lead_id, {data.kind: ref}, "staff", actor=caller.key_id)
    return lead_view(visible_lead(caller, lead_id))


def promote(tenant_id: str, lead_id: str, identifiers: dict[str, str], provenance: str, actor: str | None) -> list[str]:
    """Make pending identifiers the lead's own: claim each, then move it into the profile."""
    for _ in range(MAX_ROUNDS):
        lead = live_lead(tenant_id, lead_id)
        if lead is None:
            return []
        profile = open_profile(lead)
        pending = dict(profile.get("pending") or {})
        kinds = [kind for kind, ref in sorted(identifiers.items())
                 if kind in pending and blind_index(tenant_id, kind, pending[kind]["value"]) == ref]
        if not kinds:
            return []  # superseded by a newer pending identifier, or already promoted
        for kind in kinds:
            _claim(tenant_id, kind, identifiers[kind], lead_id)
        identity = plain(lead.identity)
        actions = []
        for kind in kinds:
            old_ref = getattr(lead, f"{kind}_ref")
            if old_ref and old_ref != identifiers[kind]:
                release_claim(claim_key(tenant_id, kind, old_ref), lead_id)
            profile[kind] = pending.pop(kind)["value"]
            identity[kind] = provenance
            actions.append(getattr(LeadRecord, f"{kind}_ref").set(identifiers[kind]))
        if pending:
            profile["pending"] = pending
        else:
            profile.pop("pending", None)
        now = clock.now()
        actions += [LeadRecord.sealed.set(envelope.seal(tenant_id, lead_id, "profile", json.dumps(profile))),
                    LeadRecord.identity.set(identity), LeadRecord.updated_at.set(now)]
        if not update_at_version(lead, actions):
            continue
        event = new_event(tenant_id, lead_id, "identity", now, lead.expires_at,
                          info={"confirmed": kinds, "provenance": provenance}, actor_key_id=actor)
        items: list[Any] = [event]
        if actor:
            items.append(audit.build(tenant_id, actor, "lead.identifier_accept", lead_id))
        write_all(items)
        return kinds
    raise RuntimeError("identifier promotion did not settle")


def _claim(tenant_id: str, kind: str, ref: str, lead_id: str) -> None:
    """Take the identifier for the lead: free, already ours, or left by a lead that is gone."""
    pk = claim_key(tenant_id, kind, ref)
    if take_claim(pk, lead_id):
        return
    holder = claim_holder(pk)
    if holder is not None and live_lead(tenant_id, holder) is not None:
        raise IdentifierTaken()
    if not take_claim(pk, lead_id, holder=holder):
        raise IdentifierTaken()


def _confirm_marketing(tenant_id: str, owner: str, target: dict[str, Any], source_ip: str | None) -> None:
    """The confirming ledger entry, pointing at the pending one; the lead's summary follows."""
    now = clock.now()
    grants = {purpose: True for purpose in target["purposes"] if purpose in MARKETING}
    info = {"grants": grants, "policy_version": target.get("policy_version"), "source": "double_opt_in",
            "confirms": target.get("consent_event"), "ip_prefix": truncate_ip(source_ip)}
    write_all([new_event(tenant_id, owner, "consent", now, now + timedelta(days=retention_days(tenant_id, "consents")),
                         info={k: v for k, v in info.items() if v})])
    lead = live_lead(tenant_id, owner) if owner.startswith("led_") else None
    if lead is not None:
        summary = consent_summary(plain(lead.consents), grants, bool(lead.marketing_suppressed))
        lead.update(actions=[LeadRecord.consents.set(summary)])
