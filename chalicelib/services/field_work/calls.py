"""Call metadata from agents' phones: only while on shift, only numbers of leads, each call once.

A batch of up to 100 events costs a fixed number of reads (stored calls, shifts, identity claims,
leads: one call each) and then one write call per 25 items, whatever the batch holds:
- ``CallRecord`` items are keyed by the phone's ``client_event_id``, so a retried or reordered
  upload rewrites the same item and never a second one;
- each stored call is also a ``call`` event on its lead's timeline;
- the leads' ``last_contacted_at`` (and the retention clock) move forward through PartiQL batch
  updates, 25 leads a call, each conditional on the lead being unchanged since it was read.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, WithJsonSchema, field_validator
from pynamodb.exceptions import PutError

from chalicelib import clock
from chalicelib.errors import ValidationFailed
from chalicelib.services import audit
from chalicelib.services.access.auth import Caller
from chalicelib.services.field_work.shifts import shifts_between
from chalicelib.services.leads.reading import is_live
from chalicelib.services.leads.timeline import new_event
from chalicelib.services.tenants.tenancy import require_tenant, retention_days
from chalicelib.services.validation import StrictInput, parse_input
from chalicelib.store.base import LeadVaultModel
from chalicelib.store.batch import get_all, write_all
from chalicelib.store.models.calls import CallRecord
from chalicelib.store.models.claims import ClaimRecord, claim_key
from chalicelib.store.models.leads import LIST_SHARDS, LeadRecord, list_key, list_shard, update_if_unchanged
from chalicelib.store.models.shifts import agent_key
from chalicelib.store.models.tenants import TenantRecord
from chalicelib.vault import envelope
from chalicelib.vault.blind_index import blind_index

CLOCK_SKEW = timedelta(minutes=5)
EARLIEST_CALL, LATEST_CALL = 2000, 2999  # years
UNKNOWN_BECOME_LEADS = frozenset({"missed"})


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
    first_index: dict[str, int] = {}
    for index, event in enumerate(batch.events):
        first_index.setdefault(event.client_event_id, index)
    unique = [index for index in sorted(set(first_index.values()))]
    outcomes: dict[int, Outcome] = {}
    stored = _already_stored(caller, [batch.events[i].client_event_id for i in unique])
    pending: dict[int, Pending] = {}
    shifts = shifts_between(caller, min(starts), max(starts))
    for index in unique:
        event, start = batch.events[index], starts[index]
        if event.client_event_id in stored:
            outcomes[index] = Outcome(event.client_event_id, "duplicate", lead_id=stored[event.client_event_id])
        elif not any(begin <= start < end for begin, end in shifts):
            outcomes[index] = Outcome(event.client_event_id, "ignored", reason="outside_shift")
        else:
            number = _normalise(event.number, tenant.default_region)
            if number is not None and number in (tenant.own_numbers or []):
                outcomes[index] = Outcome(event.client_event_id, "ignored", reason="own_number")
            else:
                pending[index] = Pending(event, start, number)
    if pending:
        outcomes.update(_store_settled(caller, tenant, pending, now))
    results = []
    for index, event in enumerate(batch.events):
        first = first_index[event.client_event_id]
        outcome = outcomes[first]
        if index != first and outcome.status == "stored":
            outcome = Outcome(event.client_event_id, "duplicate", lead_id=outcome.lead_id)
        results.append(outcome.view())
    return {"results": results}


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


def _already_stored(caller: Caller, event_ids: list[str]) -> dict[str, str]:
    """Which of these events this agent stored before, with their lead (one batch read)."""
    key = agent_key(caller.tenant_id, str(caller.agent_id))
    found = CallRecord.batch_get([(key, event_id) for event_id in event_ids], consistent_read=True)
    return {record.client_event_id: record.lead_id for record in found}


class _ClaimTaken(Exception):
    """Another request claimed a number this batch wanted to turn into a lead; read again."""


def _store_settled(
    caller: Caller, tenant: TenantRecord, pending: dict[int, Pending], now: datetime
) -> dict[int, Outcome]:
    reserved: dict[str, str] = {}  # numbers this upload already claimed, kept across attempts
    for attempt in range(6):
        try:
            return _store(caller, tenant, pending, now, reserved)
        except _ClaimTaken:
            time.sleep(0.05 * 2**attempt)
    raise RuntimeError("numbers kept being claimed by concurrent requests")


def _store(
    caller: Caller, tenant: TenantRecord, pending: dict[int, Pending], now: datetime, reserved: dict[str, str]
) -> dict[int, Outcome]:
    tenant_id = tenant.tenant_id
    refs = {p.number: blind_index(tenant_id, "phone", p.number) for p in pending.values() if p.number}
    claims = get_all([(ClaimRecord, claim_key(tenant_id, "phone", ref)) for ref in refs.values()]) if refs else {}
    claim_of = {number: claims[claim_key(tenant_id, "phone", ref)] for number, ref in refs.items()
                if claim_key(tenant_id, "phone", ref) in claims}
    leads = _live_leads(tenant_id, {claim.lead_id for claim in claim_of.values()})  # type: ignore[attr-defined]
    owner_of = {number: claim.lead_id for number, claim in claim_of.items()  # type: ignore[attr-defined]
                if claim.lead_id in leads}  # type: ignore[attr-defined]
    items: list[LeadVaultModel] = []
    new_leads: dict[str, LeadRecord] = {}
    outcomes: dict[int, Outcome] = {}
    lead_calls: dict[str, list[datetime]] = {}
    calls_days = retention_days(tenant_id, "calls")
    for index, entry in pending.items():
        event = entry.event
        lead_id = owner_of.get(entry.number) if entry.number else None
        if lead_id is None and entry.number and _becomes_lead(tenant, event):
            lead_id = _new_call_lead(tenant, entry.number, refs[entry.number], now, new_leads, items,
                                     claim_of.get(entry.number), reserved)  # type: ignore[arg-type]
            owner_of[entry.number] = lead_id
        if lead_id is None:
            outcomes[index] = Outcome(event.client_event_id, "ignored", reason="unknown_number")
            continue
        expires_at = entry.started_at + timedelta(days=calls_days)
        items.append(CallRecord(
            agent_key(tenant_id, str(caller.agent_id)),
            event.client_event_id,
            started_sort=f"{clock.sort_stamp(entry.started_at)}#{event.client_event_id}",
            tenant_id=tenant_id,
            agent_id=str(caller.agent_id),
            lead_id=lead_id,
            number_sealed=envelope.seal(tenant_id, lead_id, f"call:{event.client_event_id}", str(entry.number)),
            direction=event.direction,
            status=event.status,
            started_at=entry.started_at,
            duration_s=event.duration_s,
            stored_at=now,
            expires_at=expires_at,
        ))
        items.append(new_event(tenant_id, lead_id, "call", entry.started_at, expires_at, actor_key_id=caller.key_id,
                               info={"call_id": event.client_event_id, "agent_id": caller.agent_id,
                                     "direction": event.direction, "status": event.status,
                                     "duration_s": event.duration_s}))
        lead_calls.setdefault(lead_id, []).append(entry.started_at)
        outcomes[index] = Outcome(event.client_event_id, "stored", lead_id=lead_id)
    if lead_calls:
        items.append(audit.build(tenant_id, caller.key_id, "calls.upload", None))
    for lead_id, lead in new_leads.items():
        lead.last_contacted_at = max(lead_calls[lead_id])
    write_all(items)
    _move_contact_clocks(tenant_id, leads, {k: v for k, v in lead_calls.items() if k not in new_leads})
    return outcomes


def _becomes_lead(tenant: TenantRecord, event: CallEventInput) -> bool:
    """Only a missed or incoming call from an unknown number may start a lead, and only if the tenant says so."""
    return bool(tenant.unknown_calls_become_leads) and (event.direction == "incoming"
                                                        or event.status in UNKNOWN_BECOME_LEADS)


def _live_leads(tenant_id: str, lead_ids: set[str]) -> dict[str, LeadRecord]:
    if not lead_ids:
        return {}
    found = LeadRecord.batch_get(sorted(lead_ids), consistent_read=True)
    leads = {lead.lead_id: lead for lead in found if lead.tenant_id == tenant_id and is_live(lead)}
    for lead in leads.values():
        envelope.adopt_key(tenant_id, lead.lead_id, lead.wrapped_key)
    return leads


def _new_call_lead(
    tenant: TenantRecord, number: str, ref: str, now: datetime, new_leads: dict[str, LeadRecord],
    items: list[LeadVaultModel], stale: ClaimRecord | None, reserved: dict[str, str],
) -> str:
    """A lead for an unknown caller (``source: call``), written in the same batch as its call.

    Its phone claim is taken first with a condition, as lead intake does, so a form or another
    upload racing for the same number never ends as two leads.
    """
    tenant_id = tenant.tenant_id
    if number in reserved:
        lead_id = reserved[number]
    else:
        lead_id = _claim_number(tenant_id, ref, stale)
        reserved[number] = lead_id
    wrapped, master_name = envelope.new_inline_key(tenant_id, lead_id)
    expires_at = now + timedelta(days=retention_days(tenant_id, "leads"))
    lead = LeadRecord(
        lead_id, tenant_id=tenant_id, wrapped_key=wrapped, master_key=master_name,
        sealed=envelope.seal(tenant_id, lead_id, "profile", json.dumps({"phone": number})), phone_ref=ref,
        identity={"phone": "given"},
        source="call", lawful_basis="legitimate_interest", consents={}, first_submission={"via": "call"},
        created_at=now, updated_at=now, last_activity_at=now,
        list_pk=f"{tenant_id}#{list_shard(lead_id) % LIST_SHARDS}",
        list_sk=list_key(lead_id, expires_at), expires_at=expires_at,
    )
    new_leads[lead_id] = lead
    items.append(lead)
    return lead_id


def _claim_number(tenant_id: str, ref: str, stale: ClaimRecord | None) -> str:
    lead_id = "led_" + secrets.token_hex(10)
    condition = ClaimRecord.pk.does_not_exist()
    if stale is not None:
        if stale.claimed_at and stale.claimed_at > clock.wall_now() - timedelta(seconds=30):
            raise _ClaimTaken()  # its lead is still being written by the request that claimed it
        condition = condition | (ClaimRecord.lead_id == stale.lead_id)
    try:
        ClaimRecord(claim_key(tenant_id, "phone", ref), lead_id=lead_id, claimed_at=clock.wall_now()).save(
            condition=condition)
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise _ClaimTaken() from None
        raise
    return lead_id


def _move_contact_clocks(tenant_id: str, leads: dict[str, LeadRecord], lead_calls: dict[str, list[datetime]]) -> None:
    """``last_contacted_at`` and the retention clock only move forward, however late a call arrives."""
    leads_days = timedelta(days=retention_days(tenant_id, "leads"))
    pending = {lead_id: max(starts) for lead_id, starts in lead_calls.items()}
    for _attempt in range(5):
        changes = []
        for lead_id, latest in pending.items():
            lead = leads[lead_id]
            contacted = max(latest, lead.last_contacted_at) if lead.last_contacted_at else latest
            activity = max(latest, lead.last_activity_at)
            if contacted == lead.last_contacted_at and activity == lead.last_activity_at:
                continue
            expires_at = max(activity + leads_days, lead.expires_at or activity + leads_days)
            changes.append((lead, {"last_contacted_at": contacted, "last_activity_at": activity,
                                   "expires_at": expires_at}))
        changed_meanwhile = update_if_unchanged(changes)
        if not changed_meanwhile:
            return
        pending = {lead.lead_id: pending[lead.lead_id] for lead in changed_meanwhile}
        leads = {lead.lead_id: lead for lead in LeadRecord.batch_get(sorted(pending), consistent_read=True)}
        pending = {lead_id: latest for lead_id, latest in pending.items() if lead_id in leads}
    raise RuntimeError("leads kept changing while their contact times were updated")
