"""Call metadata from agents' phones: only while on shift, only numbers of leads, each call once.

A batch of up to 100 events costs a fixed number of reads (stored calls, shifts, identity claims,
leads: one call each) and then one write call per 25 items, whatever the batch holds:
- a call is one item, keyed by the phone's ``client_event_id``, so a retried or reordered upload
  rewrites the same item and never a second one; its lead's timeline finds it through the calls
  table's index by lead, so no timeline event is written for it;
- the leads' ``last_contacted_at`` (and the retention clock) move forward through batch updates,
  25 leads a call, each conditional on the lead being unchanged since it was read.
100 calls to 100 known leads: 5 batch writes (100 calls, the audit record and one ``call.stored`` event
for the upload) and 4 batch updates.

The upload's ``call.stored`` names every call of it that is stored, now or by an earlier attempt, and goes
last in the batch, so it lands only after its calls. Its id is fixed by the agent and those calls: a phone
sending the upload again (after a batch that failed midway) writes that one event, whole, never a second;
a resend of an upload that finished reads that its event is there and writes nothing.

Each upload adds to its agent's daily counts (``field_work_days``: stored, ignored by reason) after its calls
are written, one conditional update per day its calls fall on, carrying the upload's token (fixed by the agent
and the upload's call ids), and so do its calls: a resend of the upload after a failure finds its calls stored
under its own token and counts them then, if the first attempt's counts did not land; a resend whose counts
did land finds the token on the day and adds nothing. A call stored by another upload is that one's to count.

An upload is answered only once all of that holds. One that fails after its calls were written (the
clocks' update throttled, say) answers 5xx; the phone sends it again, its calls are now duplicates, and
their leads' clocks are moved then: a call already stored still moves its lead's clock (only forward, so
moving it twice is moving it once). Otherwise an actively worked lead could expire and be purged.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, WithJsonSchema, field_validator

from chalicelib import clock
from chalicelib.errors import ValidationFailed
from chalicelib.services import audit, event_log
from chalicelib.services.access.auth import Caller
from chalicelib.services.field_work.shifts import shifts_between
from chalicelib.services.leads.creation import new_lead_id, start_lead
from chalicelib.services.tenants.tenancy import Tenant, expiry, require_tenant
from chalicelib.services.validation import StrictInput, parse_input
from chalicelib.store import field_work, leads
from chalicelib.store.atomic import Refused
from chalicelib.store.changes import Changes
from chalicelib.store.events import is_written
from chalicelib.store.field_work import Call, DayCount
from chalicelib.store.leads import Claim, Lead
from chalicelib.vault.blind_index import blind_index
from chalicelib.vault.envelope import SubjectKey

CLOCK_SKEW = timedelta(minutes=5)
EARLIEST_CALL, LATEST_CALL = 2000, 2999  # years
UNKNOWN_BECOME_LEADS = frozenset({"missed"})
SETTLE_ATTEMPTS = 6
CLOCK_ATTEMPTS = 5


class CallEventInput(StrictInput):
    client_event_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:\-]{1,128}$")]
    number: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    direction: Literal["incoming", "outgoing"]
    status: Literal["answered", "missed", "rejected", "busy", "unanswered"]
    started_at: Annotated[str, StringConstraints(min_length=10, max_length=40),
                          WithJsonSchema({"type": "string", "format": "date-time", "minLength": 10, "maxLength": 40})]
    duration_s: Annotated[int, Field(ge=0, le=86400)]

    @field_validator("started_at")
    @classmethod
    def _time(cls, value: str) -> str:
        try:
            moment = clock.parse_timestamp(value, naive_is_utc=False)
        except ValueError:
            raise ValueError("an ISO 8601 time with a zone, like 2026-11-22T10:00:00Z") from None
        if not EARLIEST_CALL <= moment.year <= LATEST_CALL:  # shift windows reach hours around it
            raise ValueError(f"a time between {EARLIEST_CALL} and {LATEST_CALL}")
        return value


class CallBatchInput(StrictInput):
    events: list[CallEventInput] = Field(min_length=1, max_length=100)


@dataclass
class Outcome:
    client_event_id: str
    status: str
    reason: str | None = None
    lead_id: str | None = None

    def view(self) -> dict[str, str]:
        fields = {"client_event_id": self.client_event_id, "status": self.status, "reason": self.reason,
                  "lead_id": self.lead_id}
        return {k: v for k, v in fields.items() if v is not None}


@dataclass
class Pending:
    """An event that passed the shift and own-number checks and waits for its lead."""

    event: CallEventInput
    started_at: datetime
    number: str | None


@dataclass
class Owners:
    """Whose each number is in one attempt: known live leads, and leads this upload starts."""

    keys: dict[str, SubjectKey] = field(default_factory=dict)  # lead id -> its key, to seal its calls
    of_number: dict[str, str] = field(default_factory=dict)  # number -> lead id
    known: dict[str, Lead] = field(default_factory=dict)  # lead id -> live lead as read


@dataclass
class Contacts:
    """The latest call of each lead in this upload (stored now or before), and the leads as read."""

    latest: dict[str, datetime] = field(default_factory=dict)  # lead id -> its latest call
    leads: dict[str, Lead] = field(default_factory=dict)  # lead id -> live lead as read (may lack some)

    def saw(self, lead_id: str, started_at: datetime) -> None:
        self.latest[lead_id] = max(started_at, self.latest.get(lead_id, started_at))

    def merge(self, other: Contacts) -> None:
        for lead_id, started_at in other.latest.items():
            self.saw(lead_id, started_at)
        self.leads.update(other.leads)


class _ClaimTaken(Exception):
    """Another request claimed a number this batch wanted to turn into a lead; read again."""


def upload_calls(caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """Store what may be stored; answer each event in request order."""
    batch = parse_input(CallBatchInput, body)
    now = clock.now()
    starts = [clock.parse_timestamp(event.started_at) for event in batch.events]
    future = [{"field": f"events.{i}.started_at", "problem": "is in the future"}
              for i, start in enumerate(starts) if start > now + CLOCK_SKEW]
    if future:
        raise ValidationFailed(details=future)
    tenant = require_tenant(caller.tenant_id)
    agent_id = str(caller.agent_id)
    first_index: dict[str, int] = {}
    for index, event in enumerate(batch.events):
        first_index.setdefault(event.client_event_id, index)
    unique = sorted(set(first_index.values()))
    outcomes: dict[int, Outcome] = {}
    call_ids = [batch.events[i].client_event_id for i in unique]
    stored = field_work.stored_calls(tenant.tenant_id, agent_id, call_ids)
    token = field_work.upload_token(agent_id, call_ids)
    pending: dict[int, Pending] = {}
    seen: list[dict[str, str]] = []  # calls stored by an earlier attempt, for the upload's event
    contacts = Contacts()
    shifts = shifts_between(tenant, agent_id, min(starts), max(starts))
    for index in unique:
        event, start = batch.events[index], starts[index]
        if event.client_event_id in stored:
            call = stored[event.client_event_id]
            outcomes[index] = Outcome(event.client_event_id, "duplicate", lead_id=call.lead_id)
            seen.append({"call_id": event.client_event_id, "lead_id": str(call.lead_id)})
            contacts.saw(call.lead_id, call.started_at)  # an earlier attempt may have failed before the clocks
        elif not any(begin <= start < end for begin, end in shifts):
            outcomes[index] = Outcome(event.client_event_id, "ignored", reason="outside_shift")
        else:
            number = _normalise(event.number, tenant.default_region)
            if number is not None and number in (tenant.own_numbers or []):
                outcomes[index] = Outcome(event.client_event_id, "ignored", reason="own_number")
            else:
                pending[index] = Pending(event, start, number)
    if pending:
        settled, written = _store_settled(caller, tenant, pending, now, seen, token)
        outcomes.update(settled)
        contacts.merge(written)
    elif seen:  # all stored before: an earlier attempt may have failed before its event landed
        event = _call_event(tenant, agent_id, seen)
        if not is_written(event.event_id):  # a read, so a resend of a finished upload writes nothing
            Changes().put(event).commit()
    _move_contact_clocks(tenant, contacts)
    _count_days(tenant.tenant_id, agent_id, token, batch.events, starts, unique, outcomes, stored)
    results = []
    for index, event in enumerate(batch.events):
        first = first_index[event.client_event_id]
        outcome = outcomes[first]
        if index != first and outcome.status == "stored":
            outcome = Outcome(event.client_event_id, "duplicate", lead_id=outcome.lead_id)
        results.append(outcome.view())
    return {"results": results}


def _count_days(tenant_id: str, agent_id: str, token: str, events: list[CallEventInput], starts: list[datetime],
                unique: list[int], outcomes: dict[int, Outcome], stored: dict[str, Call]) -> None:
    """Add the upload's calls to its agent's days (see the module): those it stored now, those an earlier sending
    of it stored (its token on them), and those it ignored, by reason; each day once per upload."""
    stored_on: Counter[date] = Counter()
    ignored_on: dict[date, Counter[str]] = defaultdict(Counter)
    for index in unique:
        outcome = outcomes[index]
        if outcome.status == "stored":
            stored_on[starts[index].date()] += 1
        elif outcome.status == "ignored" and outcome.reason:
            ignored_on[starts[index].date()][outcome.reason] += 1
        else:
            earlier = stored.get(events[index].client_event_id)
            if earlier is not None and earlier.upload == token:
                stored_on[earlier.started_at.date()] += 1
    for day in sorted({*stored_on, *ignored_on}):
        field_work.add_to_day(tenant_id, DayCount(agent_id, day, stored=stored_on[day],
                                                  ignored=dict(ignored_on.get(day, {}))), token)


def _normalise(raw: str, region: str) -> str | None:
    """E.164 of a call-log number, or None for hidden, short or malformed numbers."""
    import phonenumbers

    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _becomes_lead(tenant: Tenant, event: CallEventInput) -> bool:
    """Only a missed or incoming call from an unknown number may start a lead, and only if the tenant says so."""
    return bool(tenant.unknown_calls_become_leads) and (event.direction == "incoming"
                                                        or event.status in UNKNOWN_BECOME_LEADS)


def _call_event(tenant: Tenant, agent_id: str, calls: list[dict[str, str]]) -> Any:
    """The upload's one ``call.stored``, its id fixed by the agent and the calls it names (see the module)."""
    named = sorted(calls, key=lambda call: call["call_id"])
    once_for = "#".join([agent_id, *(call["call_id"] for call in named)])
    return event_log.build(tenant, "call.stored", {"agent_id": agent_id, "calls": named,
                                                   "lead_ids": sorted({call["lead_id"] for call in named})},
                           once_for=once_for)


def _store_settled(
    caller: Caller, tenant: Tenant, pending: dict[int, Pending], now: datetime, seen: list[dict[str, str]],
    token: str,
) -> tuple[dict[int, Outcome], Contacts]:
    for attempt in range(SETTLE_ATTEMPTS):
        try:
            return _store(caller, tenant, pending, now, seen, token)
        except _ClaimTaken:
            time.sleep(0.05 * 2**attempt)
    raise RuntimeError("numbers kept being claimed by concurrent requests")


def _store(
    caller: Caller, tenant: Tenant, pending: dict[int, Pending], now: datetime, seen: list[dict[str, str]],
    token: str,
) -> tuple[dict[int, Outcome], Contacts]:
    """One attempt: find each number's lead, start leads for unknown callers, write calls in one batch
    (with the upload's event, naming ``seen`` too: the calls an earlier attempt stored).

    Returns each call's outcome and the contacts the known leads' clocks must move by (leads this upload
    starts are written with their clocks set).
    """
    refs = {p.number: blind_index(tenant, "phone", p.number) for p in pending.values() if p.number}
    owners, claims = _known_owners(tenant.tenant_id, refs)
    starting, unknown = _callers_to_start(tenant, pending, owners)
    calls: list[Any] = []
    _start_leads(tenant, starting, refs, claims, owners, now)
    agent_id = str(caller.agent_id)
    outcomes: dict[int, Outcome] = {}
    contacts = Contacts(leads=owners.known)
    for index, entry in pending.items():
        event = entry.event
        lead_id = owners.of_number.get(entry.number) if entry.number and index not in unknown else None
        if lead_id is None:
            outcomes[index] = Outcome(event.client_event_id, "ignored", reason="unknown_number")
            continue
        calls.append(field_work.new_call(
            owners.keys[lead_id], agent_id, event.client_event_id, str(entry.number),
            direction=event.direction, status=event.status, started_at=entry.started_at,
            duration_s=event.duration_s, stored_at=now, expires_at=expiry(tenant, "calls", entry.started_at),
            upload=token,
        ))
        if lead_id in owners.known:
            contacts.saw(lead_id, entry.started_at)
        outcomes[index] = Outcome(event.client_event_id, "stored", lead_id=lead_id)
    stored = [{"call_id": outcome.client_event_id, "lead_id": str(outcome.lead_id)}
              for outcome in outcomes.values() if outcome.status == "stored"]
    if stored or seen:
        # The event last: it lands only once every call before it has (the batch is written in order).
        # Should the batch fail midway, the upload answers 5xx; the phone sends it again, finds the calls
        # that landed as duplicates, and rewrites this same event naming them all.
        Changes().put(*calls, audit.build(tenant.tenant_id, caller.key_id, "calls.upload", None) if stored else None,
                      _call_event(tenant, agent_id, [*seen, *stored])).commit()
    return outcomes, contacts


def _known_owners(tenant_id: str, refs: dict[str, str]) -> tuple[Owners, dict[str, Claim]]:
    """The live lead of each claimed number (two batch reads); and every claim found, by number."""
    found = leads.claims_of_phones(tenant_id, refs.values())
    claims = {number: found[ref] for number, ref in refs.items() if ref in found}
    live = leads.live_many(tenant_id, {claim.lead_id for claim in claims.values()})
    owners = Owners(keys={lead_id: leads.key_of(lead) for lead_id, lead in live.items()}, known=live)
    owners.of_number = {number: claim.lead_id for number, claim in claims.items() if claim.lead_id in live}
    return owners, claims


def _callers_to_start(
    tenant: Tenant, pending: dict[int, Pending], owners: Owners
) -> tuple[dict[str, datetime], set[int]]:
    """Unknown numbers whose call starts a lead, each with the latest call its lead gets; and the calls
    that stay unknown.

    In batch order: the first call that may start a lead does, and the number's later calls join
    that lead; its calls before that one stay unknown.
    """
    starting: dict[str, datetime] = {}
    unknown: set[int] = set()
    for index, entry in pending.items():
        number = entry.number
        if number is None or number in owners.of_number:
            continue
        if number in starting or _becomes_lead(tenant, entry.event):
            starting[number] = max(entry.started_at, starting.get(number, entry.started_at))
        else:
            unknown.add(index)
    return starting, unknown


def _start_leads(
    tenant: Tenant, starting: dict[str, datetime], refs: dict[str, str], claims: dict[str, Claim], owners: Owners,
    now: datetime,
) -> None:
    """Write a lead (``source: call``) for each unknown caller that starts one; ``owners`` learns each
    number's new lead and key.

    The lead and its phone claim are one transaction, as in lead intake: a form or another upload
    racing for the same number never ends as two leads, a claim never names a lead that was not
    written (a retry after a failed upload finds the lead and joins it), and a claim left by a dead
    lead is taken over at once. A lost race reads again (:class:`_ClaimTaken`).
    """
    for number, contacted in starting.items():
        stale = claims.get(number)
        new = start_lead(tenant, new_lead_id(), {"phone": number}, refs={"phone": refs[number]}, source="call",
                         lawful_basis="legitimate_interest", now=now, first_submission={"via": "call"},
                         last_contacted_at=contacted)
        try:
            writes = leads.creation_writes(new, {"phone": stale.lead_id if stale else None})
            created = event_log.build(tenant, "lead.created", {"lead_id": new.lead.lead_id, "source": "call"})
            Changes().guard(*writes).put(created).commit_atomically()
        except Refused:
            raise _ClaimTaken() from None
        owners.of_number[number], owners.keys[new.lead.lead_id] = new.lead.lead_id, new.key


def _move_contact_clocks(tenant: Tenant, contacts: Contacts) -> None:
    """``last_contacted_at`` and the retention clock only move forward, however late a call arrives.

    Leads not read yet (those of duplicate calls) are read in one batch; an erased one is skipped. A lead
    whose clocks are already as far is left alone, so an upload sent again writes nothing more.
    """
    unread = set(contacts.latest) - set(contacts.leads)
    known = {**contacts.leads, **(leads.live_many(tenant.tenant_id, unread) if unread else {})}
    pending = {lead_id: latest for lead_id, latest in contacts.latest.items() if lead_id in known}
    for _attempt in range(CLOCK_ATTEMPTS):
        changes = []
        for lead_id, latest in pending.items():
            lead = known[lead_id]
            contacted = max(latest, lead.last_contacted_at) if lead.last_contacted_at else latest
            activity = max(latest, lead.last_activity_at)
            if contacted == lead.last_contacted_at and activity == lead.last_activity_at:
                continue
            renewed = expiry(tenant, "leads", activity)
            changes.append((lead, {"last_contacted_at": contacted, "last_activity_at": activity,
                                   "expires_at": max(renewed, lead.expires_at or renewed)}))
        if not changes:
            return
        changed_meanwhile = leads.set_clocks_if_unchanged(changes)
        if not changed_meanwhile:
            return
        known = leads.many(lead.lead_id for lead in changed_meanwhile)
        pending = {lead_id: pending[lead_id] for lead_id in known}
    raise RuntimeError("leads kept changing while their contact times were updated")
