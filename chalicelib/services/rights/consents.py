"""The consent ledger: append-only entries, current state derived from them.

Withdrawing is as easy as granting: a new entry with ``false``. Marketing choices never affect
legal or system notices. A person whose data was erased stays suppressed for marketing.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints

from chalicelib import clock
from chalicelib.errors import ValidationFailed
from chalicelib.services import audit, event_log
from chalicelib.services.access import budgets
from chalicelib.services.access.auth import Caller
from chalicelib.services.access.budgets import Outgoing, Spender
from chalicelib.services.rights import confirmations
from chalicelib.services.rights.ledger import current_state
from chalicelib.services.rights.people import Identifier, identify, locate
from chalicelib.services.rights.purposes import CHANNEL_OF, CONFIRMED_BY, MARKETING, Purpose, consent_summary
from chalicelib.services.tenants.tenancy import Tenant, expiry, require_tenant
from chalicelib.services.validation import StrictInput, parse_input, present
from chalicelib.store import consents, leads, timeline, tokens
from chalicelib.store.changes import save
from chalicelib.store.leads import Lead
from chalicelib.store.timeline import Event
from chalicelib.vault.minimise import truncate_ip


class ConsentInput(StrictInput):
    model_config = ConfigDict(json_schema_extra={
        **present("email", "phone", "visitor_id", exactly_one=True),
        "examples": [{"visitor_id": "v_8f2b1c9e", "grants": {"performance": True, "advertising": False},
                      "policy_version": "2026-11", "source": "cookie_banner"}],
    })

    email: str | None = None
    phone: str | None = None
    visitor_id: str | None = None
    grants: dict[Purpose, bool] = Field(min_length=1, max_length=7)
    policy_version: Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[\w.\-]+$")]
    source: Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[a-z0-9_\-]+$")] = "api"


def record_consent(caller: Caller, body: dict[str, Any], source_ip: str | None) -> dict[str, Any]:
    """Append the choices; a marketing grant made with the public key waits for the person's confirmation."""
    data = parse_input(ConsentInput, body)
    tenant = require_tenant(caller.tenant_id)
    identifier = identify(tenant, data.model_dump())
    grants = {str(purpose): value for purpose, value in data.grants.items()}
    public = caller.role == "widget"
    pending = sorted(p for p, granted in grants.items() if public and granted and p in MARKETING)
    if pending and identifier.kind == "visitor":
        raise ValidationFailed(details=[{"field": "grants", "problem": "marketing choices need an e-mail or phone "
                                                                       "to confirm them"}])
    # The address that confirms a marketing grant is the one the marketing would reach.
    elsewhere = [p for p in pending if CONFIRMED_BY.get(p) != identifier.kind]
    if elsewhere:
        raise ValidationFailed(details=[{"field": f"grants.{p}", "problem": "confirmed only through the "
                                         f"{CONFIRMED_BY[p]} it would reach: send it with that {CONFIRMED_BY[p]}"}
                                        for p in elsewhere])
    message = Outgoing(CHANNEL_OF[identifier.kind], identifier.ref, "confirmation") if pending else None
    budgets.charge(Spender(tenant, caller.key_id, caller.role, source_ip), "consents", message)
    direct = {p: v for p, v in grants.items() if p not in pending}
    written = append(tenant, identifier, direct, data.policy_version, data.source, caller.key_id, source_ip,
                     pending_purposes=pending)
    return {"consent_id": written[0].event_id, "pending_purposes": pending}


def append(
    tenant: Tenant, identifier: Identifier, grants: dict[str, bool], policy_version: str | None, source: str,
    actor_key_id: str | None, source_ip: str | None = None, pending_purposes: list[str] | None = None,
) -> list[Event]:
    """Write the person's ledger entries (under their lead if they have one): the grants that hold
    now, and, apart, marketing grants pending the person's confirmation (with the link sent to them)."""
    now = clock.now()
    located = locate(identifier)
    lead = located.lead
    owner = lead.lead_id if lead else identifier.subject_owner
    expires_at = expiry(tenant, "consents", now)
    base = {"policy_version": policy_version, "source": source, "ip_prefix": truncate_ip(source_ip)}
    events: list[Event] = []
    if grants:
        events.append(consents.new_entry(tenant.tenant_id, owner, now, expires_at, {"grants": grants, **base},
                                         actor_key_id=actor_key_id))
    items: list[Any] = list(events)
    if grants:  # in the ledger entry's batch (retried until every item lands); a pending grant changes nothing yet
        items.append(event_log.consent_changed(tenant, owner, list(grants), source))  # None without a lead
    text, link = None, None
    if pending_purposes:
        info = {"grants": dict.fromkeys(pending_purposes, True), **base, "pending": True}
        pending_entry = consents.new_entry(tenant.tenant_id, owner, now, expires_at, info,
                                           actor_key_id=actor_key_id)
        events.append(pending_entry)
        token, link = confirmations.issue(tenant.tenant_id, owner, consent_event=pending_entry.event_id,
                                          purposes=pending_purposes, policy_version=policy_version)
        items += [pending_entry, link]
        text = confirmations.message_text(tenant, pending_purposes, {}, token)
    if actor_key_id:
        items.append(audit.build(tenant.tenant_id, actor_key_id, "consent.record", lead.lead_id if lead else None))
    save(*items)
    if lead is not None and (grants or link is not None):
        _refresh_lead(lead, grants, located.suppressed, tokens.ref_of(link) if link is not None else None)
    if text is not None:
        confirmations.send(tenant, CHANNEL_OF[identifier.kind], identifier.value, owner, text)
    return events


def _refresh_lead(lead: Lead, grants: dict[str, bool], suppressed: bool, link: str | None) -> None:
    """Keep the lead's summary of current consents in step with the ledger (and list its newest link)."""
    links_before = set(lead.confirm_refs or ())
    leads.set_consents(lead, lambda current: consent_summary(current, grants, suppressed), {link} if link else None)
    if link and links_before - {link}:
        tokens.revoke(links_before - {link})  # older links stop working


def ledger(identifier: Identifier) -> tuple[list[Event], bool, str | None]:
    """Every consent entry of the person, oldest first, whether marketing is suppressed, and the lead."""
    located = locate(identifier)
    owners = [identifier.subject_owner]
    if located.lead is not None:
        owners.append(located.lead.lead_id)
    return consents.entries(identifier.tenant_id, owners), located.suppressed, located.holder_id


class ConsentLookup(StrictInput):
    """Whose consents to report: exactly one identifier, in the body so that it never lands in a URL or log."""

    model_config = ConfigDict(json_schema_extra={
        **present("email", "phone", "visitor_id", exactly_one=True),
        "examples": [{"email": "meera@example.org"}, {"visitor_id": "v_8f2b1c9e"}],
    })

    email: str | None = None
    phone: str | None = None
    visitor_id: str | None = None


def consent_report(caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /v1/consents/lookup``: current state and history for one identifier (admins; audited)."""
    data = parse_input(ConsentLookup, body)
    identifier = identify(require_tenant(caller.tenant_id), data.model_dump())
    entries, suppressed, lead_id = ledger(identifier)
    audit.record(caller.tenant_id, caller.key_id, "consent.read", lead_id)
    history = [{"consent_id": e.event_id, "at": clock.iso(e.at), **timeline.info_of(e)} for e in entries]
    return {"current": current_state(entries, suppressed), "history": history, "suppressed": suppressed}
