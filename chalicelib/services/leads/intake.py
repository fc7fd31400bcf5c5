"""Lead intake: one person, one lead, consented, minimal, idempotent.

A new lead costs three DynamoDB calls: one consistent batch read (identity claims and the
idempotency record), one conditional put of the primary claim (which settles races between
concurrent submissions of the same person), and one batch write of everything else. A
submission that matches an existing lead merges into it with optimistic locking.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from chalicelib import clock
from chalicelib.errors import ConsentRequired, Minor, ValidationFailed
from chalicelib.services import audit
from chalicelib.services.access import budgets
from chalicelib.services.access.auth import Caller
from chalicelib.services.access.budgets import Outgoing, Spender
from chalicelib.services.idempotency import IdempotencyKey, idempotency_key, record, replay
from chalicelib.services.leads.fields import check_custom_fields
from chalicelib.services.leads.identifiers import normalise_email, normalise_phone
from chalicelib.services.leads.inputs import LeadInput
from chalicelib.services.leads.reading import open_profile
from chalicelib.services.leads.timeline import new_event
from chalicelib.services.rights.purposes import CHANNEL_OF, CONFIRMED_BY, MARKETING
from chalicelib.services.tenants.tenancy import require_tenant, retention_days
from chalicelib.services.validation import parse_input
from chalicelib.store.base import LeadVaultModel, plain
from chalicelib.store.batch import get_all, write_all
from chalicelib.store.counters import ClaimPut
from chalicelib.store.models.claims import ClaimRecord, IdempotencyRecord, SuppressionRecord, claim_key, suppression_key
from chalicelib.store.models.leads import LIST_SHARDS, LeadRecord, list_key, list_shard, renew_expiry, update_at_version
from chalicelib.store.models.tenants import TenantRecord
from chalicelib.vault import envelope
from chalicelib.vault.blind_index import blind_index
from chalicelib.vault.minimise import browser_and_os, truncate_ip

ROUTE = "POST /v1/leads"
ADULT_AGE = 18
MAX_ROUNDS = 24
# A claim whose lead is missing is a crash leftover only once the creating request must be over.
STALE_CLAIM_S = 30.0


@dataclass(frozen=True)
class Submission:
    """Who submits and from where (minimised before it is kept)."""

    caller: Caller
    idempotency_header: str | None = None
    source_ip: str | None = None
    user_agent: str | None = None


@dataclass
class Person:
    """The normalised, validated values of one submission."""

    values: dict[str, Any]
    refs: dict[str, str] = field(default_factory=dict)
    purposes: list[str] = field(default_factory=list)
    # Marketing grants of a public submission: pending until the person confirms (double opt-in).
    pending_purposes: list[str] = field(default_factory=list)
    policy_version: str | None = None
    source: str = "web"
    # Erased before: marketing never resumes, whatever this submission grants.
    suppressed: bool = False
    # The request's budgets are spent once, however many rounds a race takes.
    charged: bool = False

    def effective_consents(self) -> dict[str, bool]:
        return {purpose: not (self.suppressed and purpose in MARKETING) for purpose in self.purposes}


class _Retry(Exception):
    """The state moved under us (a concurrent submission); read again."""


def submit_lead(submission: Submission, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Create or merge a lead; returns the HTTP status and answer."""
    caller = submission.caller
    tenant = require_tenant(caller.tenant_id)
    data = parse_input(LeadInput, body)
    _refuse_minor(data.date_of_birth)
    person = _normalise(tenant, data)
    if caller.role == "widget":
        person.pending_purposes = [p for p in person.purposes if p in MARKETING]
        person.purposes = [p for p in person.purposes if p not in MARKETING]
    _require_contact_consent(caller, tenant, person)
    key = idempotency_key(caller.tenant_id, caller.key_id, submission.idempotency_header, ROUTE, body)
    for round_number in range(MAX_ROUNDS):
        try:
            # Past half the rounds, a matching idempotency ref with no record is no longer a twin
            # in flight but a record that expired or was never written: merge as a fresh request.
            return _attempt(submission, tenant, person, key, patient=round_number < MAX_ROUNDS // 2)
        except _Retry:
            time.sleep(min(0.5, 0.01 * 2**round_number) * (0.5 + secrets.randbelow(100) / 100))
    raise RuntimeError("lead intake did not settle after concurrent updates")


def _refuse_minor(date_of_birth: str | None) -> None:
    if date_of_birth is None:
        return
    born, today = date.fromisoformat(date_of_birth), clock.now().date()
    if born > today:
        raise ValidationFailed(details=[{"field": "date_of_birth", "problem": "is in the future"}])
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if age < ADULT_AGE:
        raise Minor()


def _normalise(tenant: TenantRecord, data: LeadInput) -> Person:
    problems, values = [], {}
    if data.phone:
        try:
            values["phone"] = normalise_phone(data.phone, tenant.default_region)
        except ValueError as error:
            problems.append({"field": "phone", "problem": str(error)})
    if data.email:
        try:
            values["email"] = normalise_email(data.email)
        except ValueError as error:
            problems.append({"field": "email", "problem": str(error)})
    fields = check_custom_fields(tenant, data.fields)
    if problems:
        raise ValidationFailed(details=problems)
    if data.name:
        values["name"] = data.name
    if fields:
        values["fields"] = fields
    if data.utm:
        values["utm"] = data.utm.model_dump(exclude_none=True)
    refs = {kind: blind_index(tenant.tenant_id, kind, values[kind]) for kind in ("phone", "email") if kind in values}
    consent = data.consent
    return Person(values=values, refs=refs, source=data.source,
                  purposes=sorted(set(consent.purposes)) if consent else [],
                  policy_version=consent.policy_version if consent else None)


def _require_contact_consent(caller: Caller, tenant: TenantRecord, person: Person) -> None:
    """Widget leads need `contact` consent unless the tenant's lawful basis is legitimate interest."""
    if caller.role == "widget" and tenant.lawful_basis != "legitimate_interest" and "contact" not in person.purposes:
        raise ConsentRequired()


def _attempt(
    submission: Submission, tenant: TenantRecord, person: Person, key: IdempotencyKey | None, patient: bool = True
) -> tuple[int, dict[str, Any]]:
    claim_keys = {kind: claim_key(tenant.tenant_id, kind, ref) for kind, ref in person.refs.items()}
    suppression_keys = [suppression_key(tenant.tenant_id, kind, ref) for kind, ref in person.refs.items()]
    wanted: list[tuple[type[LeadVaultModel], str]] = [(ClaimRecord, ck) for ck in claim_keys.values()]
    wanted += [(SuppressionRecord, sk) for sk in suppression_keys]
    if key:
        wanted.append((IdempotencyRecord, key.pk))
    found = get_all(wanted)
    person.suppressed = any(sk in found for sk in suppression_keys)
    if key:
        replayed = replay(key, found.get(key.pk))  # type: ignore[arg-type]
        if replayed:
            return replayed
    claims: dict[str, ClaimRecord] = {kind: found[ck] for kind, ck in claim_keys.items() if ck in found}  # type: ignore[misc]
    stale: dict[str, str] = {}
    if claims:
        # Spent before the lead is read, so the read-to-update window stays as short as it was.
        _charge(submission, tenant, person)
        wait_for_twin = patient and key is not None and key.pk not in found
        outcome = _merge(submission, tenant, person, key, claims, wait_for_twin)
        if outcome is not None:
            return outcome
        stale = {kind: claim.lead_id for kind, claim in claims.items()}
    return _create(submission, tenant, person, key, claim_keys, stale)


def _expiry(tenant_id: str, now: datetime) -> datetime:
    return now + timedelta(days=retention_days(tenant_id, "leads"))


def _create(
    submission: Submission,
    tenant: TenantRecord,
    person: Person,
    key: IdempotencyKey | None,
    claim_keys: dict[str, str],
    stale: dict[str, str],
) -> tuple[int, dict[str, Any]]:
    tenant_id, now = tenant.tenant_id, clock.now()
    expires_at = _expiry(tenant_id, now)
    lead_id = "led_" + secrets.token_hex(10)
    primary = "phone" if "phone" in claim_keys else "email"
    _claim(submission, tenant, person, ClaimPut(ClaimRecord(claim_keys[primary], lead_id=lead_id,
                                                            claimed_at=clock.wall_now()), stale.get(primary)))
    events = _consent_events(submission, person, lead_id, now, expires_at)
    extra: list[LeadVaultModel] = []
    sending = _confirmation(submission, tenant, person, lead_id, events, {},
                            _addresses(person.values, dict(person.refs)), extra)
    wrapped, master_name = envelope.new_inline_key(tenant_id, lead_id)
    browser, system = browser_and_os(submission.user_agent)
    lead = LeadRecord(
        lead_id,
        tenant_id=tenant_id,
        wrapped_key=wrapped,
        master_key=master_name,
        sealed=envelope.seal(tenant_id, lead_id, "profile", json.dumps(person.values)),
        phone_ref=person.refs.get("phone"),
        email_ref=person.refs.get("email"),
        identity={kind: "given" for kind in person.refs},
        source=person.source,
        lawful_basis="consent" if "contact" in person.purposes else "legitimate_interest",
        consents=person.effective_consents(),
        first_submission=_context(submission, browser, system),
        idempotency_refs={key.pk} if key else None,
        confirm_refs={item.pk for item in extra} or None,
        marketing_suppressed=True if person.suppressed else None,
        created_at=now,
        updated_at=now,
        last_activity_at=now,
        list_pk=f"{tenant_id}#{list_shard(lead_id) % LIST_SHARDS}",
        list_sk=list_key(lead_id, expires_at),
        expires_at=expires_at,
    )
    answer = _answer(lead_id, "created", person, {})
    items: list[LeadVaultModel] = [lead]
    items += [ClaimRecord(ck, lead_id=lead_id) for kind, ck in claim_keys.items()
              if kind != primary]
    items += events + extra
    items += _audit(submission.caller, "lead.create", lead_id)
    if key:
        items.append(record(key, 201, answer, lead_id=lead_id))
    write_all(items)
    sending()
    return 201, answer


def _answer(lead_id: str, status: str, person: Person, pending: dict[str, str]) -> dict[str, Any]:
    """The contract's answer, plus what waits for the person's confirmation (only when something does)."""
    answer: dict[str, Any] = {"lead_id": lead_id, "status": status}
    if person.pending_purposes:
        answer["pending_purposes"] = list(person.pending_purposes)
    if pending:
        answer["pending_identifiers"] = sorted(pending)
    return answer


Address = tuple[str, str, str]  # (channel, address, blind index)


def _addresses(values: dict[str, Any], refs: dict[str, str | None]) -> dict[str, Address]:
    """The e-mail and phone a confirmation may go to, by kind."""
    return {kind: (CHANNEL_OF[kind], values[kind], str(refs[kind])) for kind in ("email", "phone")
            if values.get(kind) and refs.get(kind)}


def _spender(submission: Submission, tenant: TenantRecord) -> Spender:
    caller = submission.caller
    return Spender(tenant, caller.key_id, caller.role, submission.source_ip)


def _may_confirm(submission: Submission, tenant: TenantRecord, to: Address) -> bool:
    """Whether the confirmation's message budgets allow it (else no link is sent; the lead stays)."""
    return budgets.charge_message(_spender(submission, tenant), Outgoing(to[0], to[2], "confirmation"))


def _claim(submission: Submission, tenant: TenantRecord, person: Person, claim: ClaimPut) -> None:
    """Take the primary identifier for a new lead, spending the request's budgets in the same write.

    Losing the claim's race means another request won: read again.
    """
    try:
        budgets.charge(_spender(submission, tenant), None if person.charged else "leads", claim=claim)
    except budgets.ClaimTaken:
        raise _Retry() from None
    person.charged = True


def _charge(submission: Submission, tenant: TenantRecord, person: Person) -> None:
    if person.charged:
        return
    budgets.charge(_spender(submission, tenant), "leads")
    person.charged = True


def _confirmation(
    submission: Submission, tenant: TenantRecord, person: Person, lead_id: str, events: list[LeadVaultModel],
    pending: dict[str, str], addresses: dict[str, Address], items: list[LeadVaultModel],
    replacing: frozenset[str] = frozenset(),
) -> Any:
    """Add one confirmation token per address to ``items``; returns what sends the messages once written.

    A marketing purpose is confirmed by the address it would reach (e-mail for e-mail offers, the
    phone for texts and calls); new identifiers by the lead's own known address, e-mail first.
    """
    from chalicelib.services.rights import confirmations
    pending_event = next((e for e in events if plain(e.info).get("pending")), None)
    identifiers_by = next((kind for kind in ("email", "phone") if kind in addresses), None) if pending else None
    messages = []
    for kind, address in addresses.items():
        purposes = [p for p in person.pending_purposes if CONFIRMED_BY.get(p) == kind]
        asked = pending if kind == identifiers_by else {}
        if not purposes and not asked:
            continue
        token, token_record = confirmations.issue(
            tenant.tenant_id, lead_id,
            identifiers={k: blind_index(tenant.tenant_id, k, value) for k, value in asked.items()},
            consent_event=pending_event.event_id if pending_event is not None else None,
            purposes=purposes, policy_version=person.policy_version)
        items.append(token_record)
        messages.append((address, confirmations.message_text(tenant.name, purposes, asked, token, replacing)))

    def sending() -> None:
        from chalicelib.logs import log_exception

        for address, text in messages:
            if not _may_confirm(submission, tenant, address):
                continue  # over a message budget: the lead is kept, this link is not sent
            try:
                confirmations.send(tenant, address[0], address[1], lead_id, text)
            except Exception as exc:  # noqa: BLE001 - the lead is kept; the person may submit again
                log_exception("confirmation_not_sent", exc, route=ROUTE)

    return sending


def _merge(
    submission: Submission,
    tenant: TenantRecord,
    person: Person,
    key: IdempotencyKey | None,
    claims: dict[str, ClaimRecord],
    wait_for_twin: bool,
) -> tuple[int, dict[str, Any]] | None:
    """Merge into the first live lead the claims name (phone first); None when every one is gone.

    Staff keys are trusted: newer values win and new identifiers join the lead at once. A public
    (widget) submission only fills what the lead lacks, never replaces or removes an identifier,
    and an identifier the lead does not have waits as pending until the person proves it.
    """
    tenant_id, now = tenant.tenant_id, clock.now()
    lead = None
    for kind in ("phone", "email"):
        if kind in claims and lead is None:
            lead = _load_owner(tenant_id, claims[kind], now)
    if lead is None:
        return None
    if wait_for_twin and key and key.pk in (lead.idempotency_refs or ()):
        raise _Retry()  # a concurrent twin of this very request is finishing: replay its answer
    # Claims that name a dead lead are free: for this lead they are like no claim at all.
    claims = {kind: claim for kind, claim in claims.items()
              if claim.lead_id == lead.lead_id or _load_owner(tenant_id, claim, now) is not None}
    other = {claim.lead_id for claim in claims.values()} - {lead.lead_id}
    trusted = submission.caller.role != "widget"
    current = open_profile(lead)
    incoming = dict(person.values)
    new_kinds: list[str] = []
    pending: dict[str, str] = {}
    for kind in ("phone", "email"):
        if kind not in person.refs or (claims.get(kind) is not None and claims[kind].lead_id == lead.lead_id):
            continue
        value = incoming.pop(kind)
        if kind in claims:
            continue  # another live lead's identifier: keep both apart, flag the link
        if trusted:
            incoming[kind] = value
            new_kinds.append(kind)
        else:
            pending[kind] = value
    if trusted:
        merged = _newer_values(current, incoming)
    elif _carries_every_identifier(lead, person):
        merged = _missing_values(current, incoming)
    else:
        # It may be someone else who knows one identifier: what it says stays on the timeline only.
        merged = dict(current)
    if pending:
        merged["pending"] = {**current.get("pending", {}),
                             **{kind: {"value": value, "at": clock.iso(now)} for kind, value in pending.items()}}
    expires_at = _expiry(tenant_id, now)
    consents = {**(plain(lead.consents))}
    consents.update(person.effective_consents())
    actions = [
        LeadRecord.sealed.set(envelope.seal(tenant_id, lead.lead_id, "profile", json.dumps(merged))),
        LeadRecord.updated_at.set(now),
        LeadRecord.last_activity_at.set(now),
        *renew_expiry(lead, expires_at, now),
        LeadRecord.consents.set(consents),
    ]
    if person.suppressed:
        actions.append(LeadRecord.marketing_suppressed.set(True))
    replaced: list[LeadVaultModel] = []
    for kind in new_kinds:
        actions.append(getattr(LeadRecord, f"{kind}_ref").set(person.refs[kind]))
        old_ref = getattr(lead, f"{kind}_ref")
        if old_ref and old_ref != person.refs[kind]:
            replaced.append(ClaimRecord(claim_key(tenant_id, kind, old_ref)))
    if new_kinds:
        actions.append(LeadRecord.identity.set({**plain(lead.identity), **{kind: "staff" for kind in new_kinds}}))
    events = _consent_events(submission, person, lead.lead_id, now, expires_at)
    extra: list[LeadVaultModel] = []
    # The lead's own known addresses only: never one this submission merely asserts.
    known = _addresses(current, {"email": lead.email_ref, "phone": lead.phone_ref})
    sending = _confirmation(submission, tenant, person, lead.lead_id, events, pending, known, extra,
                            frozenset(kind for kind in pending if current.get(kind)))
    if key:
        actions.append(LeadRecord.idempotency_refs.add({key.pk}))
    if extra:
        actions.append(LeadRecord.confirm_refs.set({item.pk for item in extra}))
        # the older links stop working: a flood of submissions cannot grow the lead
        replaced += [IdempotencyRecord(pk) for pk in lead.confirm_refs or ()]
    if not update_at_version(lead, actions):
        raise _Retry()
    answer = _answer(lead.lead_id, "merged", person, pending)
    browser, system = browser_and_os(submission.user_agent)
    info: dict[str, Any] = {**_context(submission, browser, system), "changed": sorted(_changed(current, merged))}
    if other:
        info["possible_duplicate_of"] = sorted(other)
    if pending:
        info["pending_identifiers"] = sorted(pending)
    items: list[LeadVaultModel] = [
        new_event(tenant_id, lead.lead_id, "submission", now, expires_at, info=info,
                  sealed_values=person.values, actor_key_id=submission.caller.key_id),
    ]
    items += [ClaimRecord(claim_key(tenant_id, kind, person.refs[kind]), lead_id=lead.lead_id)
              for kind in new_kinds]
    items += events + extra
    items += _audit(submission.caller, "lead.merge", lead.lead_id)
    if key:
        items.append(record(key, 200, answer, lead_id=lead.lead_id))
    write_all(items, deletes=replaced)
    sending()
    return 200, answer


def _carries_every_identifier(lead: LeadRecord, person: Person) -> bool:
    """The submission gives every identifier the lead holds (the same ones), not just one of them."""
    held = {kind: ref for kind, ref in (("phone", lead.phone_ref), ("email", lead.email_ref)) if ref}
    return all(person.refs.get(kind) == ref for kind, ref in held.items())


def _missing_values(current: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
    """A public submission fills what the lead lacks and changes nothing it already holds."""
    merged = {**{k: v for k, v in incoming.items() if k not in ("fields", "utm")}, **current}
    for nested in ("fields", "utm"):
        if incoming.get(nested):
            merged[nested] = {**incoming[nested], **current.get(nested, {})}
    return merged


def _load_owner(tenant_id: str, claim: ClaimRecord, now: datetime) -> LeadRecord | None:
    """The claimed lead if it is live; None if it is gone or expired; retry while it is being born."""
    try:
        lead = LeadRecord.get(claim.lead_id, consistent_read=True)
    except LeadRecord.DoesNotExist:
        lead = None
    if lead is not None and lead.tenant_id == tenant_id and lead.wrapped_key and \
            (lead.expires_at is None or lead.expires_at > now):
        return lead
    if lead is None and claim.claimed_at and claim.claimed_at > clock.wall_now() - timedelta(seconds=STALE_CLAIM_S):
        raise _Retry()  # the request that claimed it is still writing the lead
    return None


def _newer_values(current: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
    merged = {**current, **{k: v for k, v in incoming.items() if k not in ("fields", "utm")}}
    for nested in ("fields", "utm"):
        if incoming.get(nested):
            merged[nested] = {**current.get(nested, {}), **incoming[nested]}
    return merged


def _changed(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    names = {k for k in after if k not in ("fields", "utm", "pending") and before.get(k) != after.get(k)}
    for nested in ("fields", "utm"):
        names |= {f"{nested}.{k}" for k, v in after.get(nested, {}).items() if before.get(nested, {}).get(k) != v}
    return names


def _context(submission: Submission, browser: str | None, system: str | None) -> dict[str, Any]:
    context = {"ip_prefix": truncate_ip(submission.source_ip), "browser": browser, "os": system,
               "via": submission.caller.role}
    return {k: v for k, v in context.items() if v}


def _consent_events(
    submission: Submission, person: Person, lead_id: str, now: datetime, expires_at: datetime
) -> list[LeadVaultModel]:
    """The ledger entries of the submission: grants that hold now, and marketing grants pending confirmation."""
    events: list[LeadVaultModel] = []
    base = {"policy_version": person.policy_version, "source": "lead_form",
            "ip_prefix": truncate_ip(submission.source_ip)}
    for purposes, pending in ((person.purposes, False), (person.pending_purposes, True)):
        if not purposes:
            continue
        info = {"grants": {purpose: True for purpose in purposes}, **base, "pending": pending}
        events.append(new_event(submission.caller.tenant_id, lead_id, "consent", now, expires_at,
                                info={k: v for k, v in info.items() if v}, actor_key_id=submission.caller.key_id))
    return events


def _audit(caller: Caller, action: str, lead_id: str) -> list[LeadVaultModel]:
    """Staff (agent, admin) changes are audited; a person's own widget submission is on the timeline."""
    if caller.role == "widget":
        return []
    return [audit.build(caller.tenant_id, caller.key_id, action, lead_id)]
