"""The consent ledger: append-only entries, current state derived from them.

Withdrawing is as easy as granting: a new entry with ``false``. Marketing choices never affect
legal or system notices. A person whose data was erased stays suppressed for marketing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints

from chalicelib import clock
from chalicelib.errors import ValidationFailed
from chalicelib.services import audit
from chalicelib.services.access import budgets
from chalicelib.services.access.auth import Caller
from chalicelib.services.access.budgets import Outgoing, Spender
from chalicelib.services.leads.reading import live_lead
from chalicelib.services.leads.timeline import new_event
from chalicelib.services.rights import confirmations
from chalicelib.services.rights.people import Identifier, identify, locate
from chalicelib.services.rights.purposes import CHANNEL_OF, CONFIRMED_BY, MARKETING, Purpose, consent_summary
from chalicelib.services.tenants.tenancy import require_tenant, retention_days
from chalicelib.services.validation import StrictInput, parse_input, present
from chalicelib.store.base import plain
from chalicelib.store.batch import write_all
from chalicelib.store.models.claims import IdempotencyRecord
from chalicelib.store.models.leads import LeadRecord
from chalicelib.store.models.timeline import TimelineRecord
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
    identifier = identify(caller.tenant_id, data.model_dump())
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
    tenant = require_tenant(caller.tenant_id)
    message = Outgoing(CHANNEL_OF[identifier.kind], identifier.ref, "confirmation") if pending else None
    budgets.charge(Spender(tenant, caller.key_id, caller.role, source_ip), "consents", message)
    direct = {p: v for p, v in grants.items() if p not in pending}
    written = append(identifier, direct, data.policy_version, data.source, caller.key_id, source_ip,
                     pending_purposes=pending, tenant=tenant)
    return {"consent_id": written[0].event_id, "pending_purposes": pending}


def append(
    identifier: Identifier, grants: dict[str, bool], policy_version: str | None, source: str,
    actor_key_id: str | None, source_ip: str | None = None, pending_purposes: list[str] | None = None,
    tenant: Any = None,
) -> list[TimelineRecord]:
    """Write the person's ledger entries (under their lead if they have one): the grants that hold
    now, and, apart, marketing grants pending the person's confirmation (with the link sent to them)."""
    now = clock.now()
    tenant_id = identifier.tenant_id
    located = locate(identifier)
    lead = live_lead(tenant_id, located.lead_id)
    owner = lead.lead_id if lead else identifier.subject_owner
    expires_at = _expiry(tenant_id, now)
    base = {"policy_version": policy_version, "source": source, "ip_prefix": truncate_ip(source_ip)}
    events: list[TimelineRecord] = []
    if grants:
        events.append(new_event(tenant_id, owner, "consent", now, expires_at, actor_key_id=actor_key_id,
                                info={k: v for k, v in {"grants": grants, **base}.items() if v}))
    items: list[Any] = list(events)
    text, token_record = None, None
    if pending_purposes:
        info = {"grants": {p: True for p in pending_purposes}, **base, "pending": True}
        pending_event = new_event(tenant_id, owner, "consent", now, expires_at, actor_key_id=actor_key_id,
                                  info={k: v for k, v in info.items() if v})
        events.append(pending_event)
        token, token_record = confirmations.issue(tenant_id, owner, consent_event=pending_event.event_id,
                                                  purposes=pending_purposes, policy_version=policy_version)
        items += [pending_event, token_record]
        text = confirmations.message_text(tenant.name, pending_purposes, {}, token)
    if actor_key_id:
        items.append(audit.build(tenant_id, actor_key_id, "consent.record", lead.lead_id if lead else None))
    write_all(items)
    if lead is not None and (grants or token_record is not None):
        _refresh_lead_state(lead, grants, located.suppressed, token_record.pk if token_record is not None else None)
    if text is not None:
        confirmations.send(tenant, CHANNEL_OF[identifier.kind], identifier.value, owner, text)
    return events


def _expiry(tenant_id: str, now: datetime) -> datetime:
    return now + timedelta(days=retention_days(tenant_id, "consents"))


def _refresh_lead_state(lead: LeadRecord, grants: dict[str, bool], suppressed: bool, token_ref: str | None) -> None:
    """Keep the lead's summary of current consents in step with the ledger (and list its link's record)."""
    links_before = set(lead.confirm_refs or ())
    actions = [LeadRecord.consents.set(consent_summary(plain(lead.consents), grants, suppressed))]
    if token_ref:
        actions.append(LeadRecord.confirm_refs.set({token_ref}))
    lead.update(actions=actions)
    if token_ref and links_before - {token_ref}:
        write_all(deletes=[IdempotencyRecord(pk) for pk in links_before - {token_ref}])  # older links stop working


def ledger(identifier: Identifier) -> tuple[list[TimelineRecord], bool, str | None]:
    """Every consent entry of the person, oldest first, whether marketing is suppressed, and the lead."""
    located = locate(identifier)
    owners = [identifier.subject_owner]
    if located.lead_id and live_lead(identifier.tenant_id, located.lead_id):
        owners.append(located.lead_id)
    now = clock.now()
    entries: list[TimelineRecord] = []
    for owner in owners:
        entries += [event for event in TimelineRecord.query(owner, filter_condition=TimelineRecord.type == "consent")
                    if event.expires_at is None or event.expires_at > now]
    entries.sort(key=lambda event: event.sort_key)
    return entries, located.suppressed, located.lead_id


def current_state(entries: list[TimelineRecord], suppressed: bool) -> dict[str, bool]:
    """The latest choice per purpose; marketing is off for a suppressed person whatever they chose."""
    state: dict[str, bool] = {}
    for event in entries:
        info = plain(event.info)
        if info.get("pending"):
            continue  # a marketing grant the person has not confirmed yet holds nothing
        grants = info.get("grants", {})
        state.update({str(p): bool(v) for p, v in grants.items()})
    if suppressed:
        state.update({purpose: False for purpose in MARKETING})
    return state


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
    identifier = identify(caller.tenant_id, data.model_dump())
    entries, suppressed, lead_id = ledger(identifier)
    audit.record(caller.tenant_id, caller.key_id, "consent.read", lead_id)
    history = [{"consent_id": e.event_id, "at": clock.iso(e.at),
                **(plain(e.info))} for e in entries]
    return {"current": current_state(entries, suppressed), "history": history, "suppressed": suppressed}
