"""Lead intake: one person, one lead, consented, minimal, idempotent.

A new lead costs two DynamoDB calls after authentication: one consistent batch read (identity
claims and suppression) and one transaction holding everything: the claims (conditional, which
settles races between concurrent submissions of the same person), the lead, its events, the
recorded answer, the request's budgets and its links' message budgets. A submission with an
``Idempotency-Key`` claims its key first (one more write), so its retries replay its answer or
wait for it (409 ``request_in_progress``) instead of racing it.
Nothing of a new lead is ever half-written. A submission that matches an existing lead merges
into it with optimistic locking (one transaction: the update conditional on the lead's version, its
events, claims, links, audit and answer, so a failed merge leaves nothing and may simply run again);
its budgets are spent once before, outside the update, because a burst of one person's
submissions all race for the same lead and a lost round should cost no counter writes.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from chalicelib import clock
from chalicelib.errors import ConsentRequired, Minor, UnknownPolicyVersion, ValidationFailed
from chalicelib.services import audit, event_log, idempotency
from chalicelib.services.access import budgets
from chalicelib.services.access.auth import Caller
from chalicelib.services.access.budgets import Outgoing, Spender
from chalicelib.services.idempotency import Held
from chalicelib.services.leads import actors
from chalicelib.services.leads.creation import new_lead_id, start_lead
from chalicelib.services.leads.fields import check_custom_fields
from chalicelib.services.leads.identifiers import normalise_email, normalise_phone
from chalicelib.services.leads.inputs import LeadInput
from chalicelib.services.rights import confirmations
from chalicelib.services.rights.purposes import CHANNEL_OF, CONFIRMED_BY, MARKETING, consent_summary
from chalicelib.services.tenants.tenancy import Tenant, expiry, require_tenant
from chalicelib.services.validation import parse_input
from chalicelib.store import atomic, leads, policies, timeline, tokens
from chalicelib.store.changes import Changes
from chalicelib.store.leads import Claim, Lead, LeadChanges
from chalicelib.vault.blind_index import blind_index
from chalicelib.vault.envelope import SubjectKey
from chalicelib.vault.minimise import browser_and_os, truncate_ip

ROUTE = "POST /v1/leads"
PLATFORM = "platform"  # the scope key of platform-wide policy versions
ADULT_AGE = 18
SETTLE_WITHIN_S = 20.0  # well inside API Gateway's 29 s


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
    # A merge spends the request's budgets once, however many rounds a race takes.
    charged: bool = False

    def effective_consents(self) -> dict[str, bool]:
        return consent_summary({}, dict.fromkeys(self.purposes, True), self.suppressed)


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
    key = idempotency.idempotency_key(caller.tenant_id, caller.key_id, submission.idempotency_header, ROUTE, body)
    held = idempotency.claim(key) if key else None
    if held is not None and held.replay is not None:
        return held.replay
    try:
        return _settle(submission, tenant, person, held)
    except BaseException:
        if held is not None:
            idempotency.release(held)  # nothing of this submission stands: the retry works afresh
        raise


def _refuse_minor(date_of_birth: str | None) -> None:
    if date_of_birth is None:
        return
    born, today = date.fromisoformat(date_of_birth), clock.now().date()
    if born > today:
        raise ValidationFailed(details=[{"field": "date_of_birth", "problem": "is in the future"}])
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if age < ADULT_AGE:
        raise Minor()


def _normalise(tenant: Tenant, data: LeadInput) -> Person:
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
    refs = {kind: blind_index(tenant, kind, values[kind]) for kind in ("phone", "email") if kind in values}
    consent = data.consent
    return Person(values=values, refs=refs, source=data.source,
                  purposes=sorted(set(consent.purposes)) if consent else [],
                  policy_version=consent.policy_version if consent else None)


def _require_contact_consent(caller: Caller, tenant: Tenant, person: Person) -> None:
    """Widget leads need `contact` consent unless the tenant's lawful basis is legitimate interest."""
    if caller.role == "widget" and tenant.lawful_basis != "legitimate_interest" and "contact" not in person.purposes:
        raise ConsentRequired()


def _settle(submission: Submission, tenant: Tenant, person: Person, held: Held | None) -> tuple[int, dict[str, Any]]:
    """Attempt until a round wins against concurrent submissions of the same person.

    Bounded by time, not rounds: how many rounds a burst of one person's submissions takes depends
    on how many arrive at once, and each round that loses has lost only to a write that won.
    """
    give_up_at = time.monotonic() + SETTLE_WITHIN_S
    round_number = 0
    while True:
        try:
            return _attempt(submission, tenant, person, held)
        except _Retry:
            if time.monotonic() >= give_up_at:
                raise RuntimeError("lead intake did not settle after concurrent updates") from None
            # Full jitter, growing with each loss: a burst spreads out instead of colliding again.
            time.sleep(min(2.0, 0.02 * 2**round_number) * secrets.randbelow(1000) / 1000)
            round_number += 1


def _attempt(submission: Submission, tenant: Tenant, person: Person, held: Held | None) -> tuple[int, dict[str, Any]]:
    asked = _policy_ids(tenant, person)
    identity = leads.look_up(tenant.tenant_id, person.refs, asked)
    if asked and not identity.policies:
        raise UnknownPolicyVersion(details=[{"field": "consent.policy_version",
                                             "problem": "not a version this tenant or the platform published"}])
    person.suppressed = identity.suppressed
    stale: dict[str, str] = {}
    if identity.claims:
        # Spent before the lead is read, so the read-to-update window stays short in a burst.
        _charge_once(submission, tenant, person)
        outcome = _merge(submission, tenant, person, held, identity.claims)
        if outcome is not None:
            return outcome
        stale = {kind: claim.lead_id for kind, claim in identity.claims.items()}
    return _create(submission, tenant, person, held, stale)


def _policy_ids(tenant: Tenant, person: Person) -> list[str]:
    """The ids the consent's policy version would have if the tenant, or the platform, published it."""
    if person.policy_version is None:
        return []
    return [policies.policy_id_of(scope, person.policy_version) for scope in (tenant.tenant_id, PLATFORM)]


def _agent_of(caller: Caller) -> str | None:
    """The agent a submission with an agent key is assigned to (its own leads show in its list)."""
    return caller.agent_id if caller.role == "agent" and caller.agent_id else None


class _MessagesOverBudget(Exception):
    """Only message budgets were spent: the submission is kept and those links are not sent."""

    def __init__(self, counters: list[Any]) -> None:
        super().__init__("message budgets spent")
        self.counters = counters


def _writer(changes: Changes, extra: list[Any]) -> Callable[[list[Any]], None]:
    """The commit ``budgets.charge_with`` runs: the request's counters plus the links' (``extra``)."""

    def write(counters: list[Any]) -> None:
        try:
            changes.commit_atomically([*counters, *extra])
        except atomic.Refused as refused:
            if {counter.pk for counter in refused.counters} & {counter.pk for counter in extra}:
                raise _MessagesOverBudget(refused.counters) from None
            if refused.counters:
                raise
            raise _Retry() from None  # a claim, the lead or the answer moved under us

    return write


def _commit(
    submission: Submission, tenant: Tenant, person: Person, changes: Changes, messages: list[Confirmation]
) -> list[Confirmation]:
    """Write everything of the submission, its budgets and its links' message budgets in one transaction.

    A link over its message budget is dropped (the lead is kept, that link is not sent); a lost race
    reads again. Returns the links to send.
    """
    spender = _spender(submission, tenant)
    offered = {index: budgets.counters_for(spender, None, Outgoing(message.to[0], message.to[2], "confirmation"))
               for index, message in enumerate(messages)}
    offered = {index: counters for index, counters in offered.items() if all(c.limit > 0 for c in counters)}
    while True:
        extra = [counter for counters in offered.values() for counter in counters]
        try:
            # A merge that found only dead leads has spent the request's budgets already.
            budgets.charge_with(spender, None if person.charged else "leads", _writer(changes, extra))
            return [messages[index] for index in offered]
        except _MessagesOverBudget as over:
            # Drop the last link that needs a spent budget and try again: as when links were sent one
            # by one, a budget with room for one link still sends the first.
            spent = {counter.pk for counter in over.counters}
            last = max(index for index, counters in offered.items() if spent & {counter.pk for counter in counters})
            offered.pop(last)


def _charge_once(submission: Submission, tenant: Tenant, person: Person) -> None:
    """A merge spends the request's budgets once, before its update, however many rounds a race takes."""
    if not person.charged:
        budgets.charge(_spender(submission, tenant), "leads")
        person.charged = True


def _create(
    submission: Submission,
    tenant: Tenant,
    person: Person,
    held: Held | None,
    stale: dict[str, str],
) -> tuple[int, dict[str, Any]]:
    now = clock.now()
    expires_at = expiry(tenant, "leads", now)
    lead_id = new_lead_id()
    browser, system = browser_and_os(submission.user_agent)
    links: list[Any] = []
    new = start_lead(
        tenant, lead_id, person.values, refs=person.refs, source=person.source,
        lawful_basis="consent" if "contact" in person.purposes else "legitimate_interest",
        consents=person.effective_consents(), first_submission=_context(submission, browser, system), now=now,
        idempotency_pk=held.key.pk if held else None, suppressed=person.suppressed,
        assigned_agent=_agent_of(submission.caller),
    )
    events = _consent_events(submission, person, new.key, now, expires_at)
    if new.lead.assigned_agent:
        events.append(timeline.new_event(new.key, "assignment_change", now, expires_at,
                                         info=actors.assignment_info(None, new.lead.assigned_agent, submission.caller),
                                         actor_key_id=submission.caller.key_id))
    messages = _confirmation(submission, tenant, person, lead_id, events, {},
                             _addresses(person.values, dict(person.refs)), links)
    if links:
        new.lead.confirm_refs = {link.pk for link in links}
    answer = _answer(lead_id, "created", person, {})
    changes = Changes().guard(*leads.creation_writes(new, {kind: stale.get(kind) for kind in person.refs}))
    changes.put(*events, *links, *_audit(submission.caller, "lead.create", lead_id),
                event_log.build(tenant, "lead.created", {"lead_id": lead_id, "source": person.source}))
    if held:
        changes.put(idempotency.record(held, 201, answer, lead_id=lead_id))
    _send(tenant, lead_id, _commit(submission, tenant, person, changes, messages))
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


def _spender(submission: Submission, tenant: Tenant) -> Spender:
    caller = submission.caller
    return Spender(tenant, caller.key_id, caller.role, submission.source_ip)


@dataclass(frozen=True)
class Confirmation:
    """A confirmation link's message: where it goes and what it says."""

    to: Address
    text: str


def _send(tenant: Tenant, lead_id: str, messages: list[Confirmation]) -> None:
    """Send the links whose budgets the commit spent; a failed send leaves the lead (the person may submit again)."""
    from chalicelib.logs import log_exception

    for message in messages:
        try:
            confirmations.send(tenant, message.to[0], message.to[1], lead_id, message.text)
        except Exception as exc:  # noqa: BLE001 - the lead is kept; the person may submit again
            log_exception("confirmation_not_sent", exc, route=ROUTE)


def _confirmation(
    submission: Submission, tenant: Tenant, person: Person, lead_id: str, events: list[Any],
    pending: dict[str, str], addresses: dict[str, Address], items: list[Any],
    replacing: frozenset[str] = frozenset(),
) -> list[Confirmation]:
    """Add one confirmation token per address to ``items``; returns the messages to send once written.

    A marketing purpose is confirmed by the address it would reach (e-mail for e-mail offers, the
    phone for texts and calls); new identifiers by the lead's own known address, e-mail first.
    """
    pending_event = next((e for e in events if timeline.info_of(e).get("pending")), None)
    identifiers_by = next((kind for kind in ("email", "phone") if kind in addresses), None) if pending else None
    messages: list[Confirmation] = []
    for kind, address in addresses.items():
        purposes = [p for p in person.pending_purposes if CONFIRMED_BY.get(p) == kind]
        asked = pending if kind == identifiers_by else {}
        if not purposes and not asked:
            continue
        token, token_record = confirmations.issue(
            tenant.tenant_id, lead_id,
            identifiers={k: blind_index(tenant, k, value) for k, value in asked.items()},
            consent_event=pending_event.event_id if pending_event is not None else None,
            purposes=purposes, policy_version=person.policy_version)
        items.append(token_record)
        messages.append(Confirmation(address, confirmations.message_text(tenant, purposes, asked, token,
                                                                         replacing)))

    return messages


def _merge(
    submission: Submission,
    tenant: Tenant,
    person: Person,
    held: Held | None,
    claims: dict[str, Claim],
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
            lead = _load_owner(tenant_id, claims[kind])
    if lead is None:
        return None
    # Claims that name a dead lead are free: for this lead they are like no claim at all.
    dead = {kind: claim.lead_id for kind, claim in claims.items()
            if claim.lead_id != lead.lead_id and _load_owner(tenant_id, claim) is None}
    claims = {kind: claim for kind, claim in claims.items() if kind not in dead}
    other = {claim.lead_id for claim in claims.values()} - {lead.lead_id}
    trusted = submission.caller.role != "widget"
    current = leads.open_profile(lead)
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
    expires_at = expiry(tenant, "leads", now)
    lead_key = leads.key_of(lead)
    update = LeadChanges(
        profile=merged, updated_at=now, activity_at=now, expires_at=expires_at,
        consents=consent_summary(leads.consents_of(lead), dict.fromkeys(person.purposes, True), person.suppressed),
        suppressed=person.suppressed, idempotency_pk=held.key.pk if held else None,
        refs={kind: person.refs[kind] for kind in new_kinds},
        identity={**leads.identity_of(lead), **dict.fromkeys(new_kinds, "staff")} if new_kinds else None,
    )
    changes = Changes()
    assignee = _agent_of(submission.caller) if lead.assigned_agent is None else None
    if assignee:  # an unassigned lead goes to the agent who brought it again; an assigned one stays put
        update.assigned_agent = assignee
        changes.put(timeline.new_event(lead_key, "assignment_change", now, expires_at,
                                       info=actors.assignment_info(None, assignee, submission.caller),
                                       actor_key_id=submission.caller.key_id))
    for kind in new_kinds:
        old_ref = getattr(lead, f"{kind}_ref")
        if old_ref and old_ref != person.refs[kind]:
            changes.delete(leads.claim_removal(tenant_id, kind, old_ref))
        # Free, or still held by a dead lead's leftover claim: taken in the same transaction, only if so.
        changes.guard(leads.claim_write(tenant_id, kind, person.refs[kind], lead.lead_id, dead.get(kind)))
    events = _consent_events(submission, person, lead_key, now, expires_at)
    links: list[Any] = []
    # The lead's own known addresses only: never one this submission merely asserts.
    known = _addresses(current, {"email": lead.email_ref, "phone": lead.phone_ref})
    messages = _confirmation(submission, tenant, person, lead.lead_id, events, pending, known, links,
                             frozenset(kind for kind in pending if current.get(kind)))
    if links:
        update.confirm_refs = {link.pk for link in links}
        # the older links stop working: a flood of submissions cannot grow the lead
        changes.delete(*(tokens.removal(pk) for pk in lead.confirm_refs or ()))
    answer = _answer(lead.lead_id, "merged", person, pending)
    browser, system = browser_and_os(submission.user_agent)
    info: dict[str, Any] = {**_context(submission, browser, system),
                            "changed": sorted(_changed(current, merged) | ({"assigned_agent"} if assignee else set()))}
    if other:
        info["possible_duplicate_of"] = sorted(other)
    if pending:
        info["pending_identifiers"] = sorted(pending)
    changes.guard(leads.update_write(lead, update))
    changes.put(timeline.new_event(lead_key, "submission", now, expires_at, info=info,
                                   sealed_values=person.values, actor_key_id=submission.caller.key_id))
    changes.put(*events, *links, *_audit(submission.caller, "lead.merge", lead.lead_id),
                event_log.build(tenant, "lead.merged", {"lead_id": lead.lead_id, "changed": info["changed"]}))
    consents_before, consents_after = leads.consents_of(lead), update.consents or {}
    turned = sorted(p for p in {*consents_before, *consents_after} if consents_before.get(p) != consents_after.get(p))
    if turned:
        changes.put(event_log.build(tenant, "consent.changed", {"lead_id": lead.lead_id, "purposes": turned}))
    if held:
        changes.put(idempotency.record(held, 200, answer, lead_id=lead.lead_id))
    try:
        changes.commit_atomically()
    except atomic.Refused:
        raise _Retry() from None  # the lead or an identifier moved under us: read again
    spender = _spender(submission, tenant)
    _send(tenant, lead.lead_id, [message for message in messages if budgets.charge_message(
        spender, Outgoing(message.to[0], message.to[2], "confirmation"))])
    return 200, answer


def _carries_every_identifier(lead: Lead, person: Person) -> bool:
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


def _load_owner(tenant_id: str, claim: Claim) -> Lead | None:
    """The claimed lead if it is live; None if it is gone or expired (a claim is written with its lead, in
    one transaction, so a claim without its lead is a leftover, never a lead still being born)."""
    lead = leads.get(claim.lead_id)
    return lead if lead is not None and lead.tenant_id == tenant_id and leads.is_live(lead) else None


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
    submission: Submission, person: Person, lead_key: SubjectKey, now: datetime, expires_at: datetime
) -> list[Any]:
    """The ledger entries of the submission: grants that hold now, and marketing grants pending confirmation."""
    events: list[Any] = []
    base = {"policy_version": person.policy_version, "source": "lead_form",
            "ip_prefix": truncate_ip(submission.source_ip)}
    for purposes, pending in ((person.purposes, False), (person.pending_purposes, True)):
        if not purposes:
            continue
        info = {"grants": {purpose: True for purpose in purposes}, **base, "pending": pending}
        events.append(timeline.new_event(lead_key, "consent", now, expires_at, actor_key_id=submission.caller.key_id,
                                         info={k: v for k, v in info.items() if v}))
    return events


def _audit(caller: Caller, action: str, lead_id: str) -> list[Any]:
    """Staff (agent, admin) changes are audited; a person's own widget submission is on the timeline."""
    if caller.role == "widget":
        return []
    return [audit.build(caller.tenant_id, caller.key_id, action, lead_id)]
