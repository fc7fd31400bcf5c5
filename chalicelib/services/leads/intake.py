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

from pynamodb.exceptions import PutError, UpdateError

from chalicelib import clock
from chalicelib.errors import ConsentRequired, Minor, ValidationFailed
from chalicelib.services import audit
from chalicelib.services.auth import Caller
from chalicelib.services.fields import check_custom_fields
from chalicelib.services.idempotency import IdempotencyKey, idempotency_key, record, replay
from chalicelib.services.identifiers import normalise_email, normalise_phone
from chalicelib.services.leads.inputs import LeadInput
from chalicelib.services.leads.timeline import new_event
from chalicelib.services.purposes import MARKETING
from chalicelib.services.tenancy import require_tenant, retention_days
from chalicelib.services.validation import parse_input
from chalicelib.store.base import LeadVaultModel, plain
from chalicelib.store.batch import get_all, write_all
from chalicelib.store.claims import ClaimRecord, IdempotencyRecord, SuppressionRecord, claim_key, suppression_key
from chalicelib.store.leads import LIST_SHARDS, LeadRecord, list_key, list_shard, renew_expiry
from chalicelib.store.tenants import TenantRecord
from chalicelib.vault import envelope
from chalicelib.vault.blind_index import blind_index
from chalicelib.vault.minimise import browser_and_os, truncate_ip

ROUTE = "POST /v1/leads"
ADULT_AGE = 18
MAX_ROUNDS = 12
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
    policy_version: str | None = None
    source: str = "web"
    # Erased before: marketing never resumes, whatever this submission grants.
    suppressed: bool = False

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
    _claim(claim_keys[primary], lead_id, expires_at, stale.get(primary))
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
        source=person.source,
        lawful_basis="consent" if "contact" in person.purposes else "legitimate_interest",
        consents=person.effective_consents(),
        first_submission=_context(submission, browser, system),
        idempotency_refs={key.pk} if key else None,
        marketing_suppressed=True if person.suppressed else None,
        created_at=now,
        updated_at=now,
        last_activity_at=now,
        list_pk=f"{tenant_id}#{list_shard(lead_id) % LIST_SHARDS}",
        list_sk=list_key(lead_id, expires_at),
        expires_at=expires_at,
    )
    answer = {"lead_id": lead_id, "status": "created"}
    items: list[LeadVaultModel] = [lead]
    items += [ClaimRecord(ck, lead_id=lead_id) for kind, ck in claim_keys.items()
              if kind != primary]
    items += _consent_events(submission, person, lead_id, now, expires_at)
    items += _audit(submission.caller, "lead.create", lead_id)
    if key:
        items.append(record(key, 201, answer, lead_id=lead_id))
    write_all(items)
    return 201, answer


def _claim(pk: str, lead_id: str, expires_at: datetime, stale_lead_id: str | None) -> None:
    """Take the primary identifier for a new lead; losing the race means another request won."""
    condition = ClaimRecord.pk.does_not_exist()
    if stale_lead_id:
        condition = condition | (ClaimRecord.lead_id == stale_lead_id)
    try:
        ClaimRecord(pk, lead_id=lead_id, claimed_at=clock.wall_now()).save(condition=condition)
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise _Retry() from None
        raise


def _merge(
    submission: Submission,
    tenant: TenantRecord,
    person: Person,
    key: IdempotencyKey | None,
    claims: dict[str, ClaimRecord],
    wait_for_twin: bool,
) -> tuple[int, dict[str, Any]] | None:
    """Merge into the first live lead the claims name (phone first); None when every one is gone."""
    tenant_id, now = tenant.tenant_id, clock.now()
    lead = None
    for kind in ("phone", "email"):
        if kind in claims and lead is None:
            lead = _load_owner(tenant_id, claims[kind], now)
    if lead is None:
        return None
    if wait_for_twin and key and key.pk in (lead.idempotency_refs or ()):
        raise _Retry()  # a concurrent twin of this very request is finishing: replay its answer
    # Claims that name a dead lead are free: they move to this lead with the submission.
    claims = {kind: claim for kind, claim in claims.items()
              if claim.lead_id == lead.lead_id or _load_owner(tenant_id, claim, now) is not None}
    other = {claim.lead_id for claim in claims.values()} - {lead.lead_id}
    envelope.adopt_key(tenant_id, lead.lead_id, lead.wrapped_key)
    current = json.loads(envelope.unseal(tenant_id, lead.lead_id, "profile", lead.sealed)) if lead.sealed else {}
    incoming = dict(person.values)
    if other and "email" in incoming and "email" in current:
        incoming.pop("email")  # the e-mail belongs to another lead: keep both apart, flag the link
    merged = _newer_values(current, incoming)
    expires_at = _expiry(tenant_id, now)
    consents = {**(plain(lead.consents))}
    consents.update(person.effective_consents())
    actions = [
        LeadRecord.sealed.set(envelope.seal(tenant_id, lead.lead_id, "profile", json.dumps(merged))),
        LeadRecord.updated_at.set(now),
        LeadRecord.last_activity_at.set(now),
        *renew_expiry(lead, expires_at, now),
        LeadRecord.version.set(lead.version + 1),
        LeadRecord.consents.set(consents),
    ]
    if person.suppressed:
        actions.append(LeadRecord.marketing_suppressed.set(True))
    new_kinds = [kind for kind in person.refs if kind not in claims and kind in incoming]
    for kind in new_kinds:
        actions.append(getattr(LeadRecord, f"{kind}_ref").set(person.refs[kind]))
    if key:
        actions.append(LeadRecord.idempotency_refs.add({key.pk}))
    try:
        lead.update(actions=actions, condition=LeadRecord.version == lead.version)
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise _Retry() from None
        raise
    answer = {"lead_id": lead.lead_id, "status": "merged"}
    browser, system = browser_and_os(submission.user_agent)
    info = {**_context(submission, browser, system), "changed": sorted(_changed(current, merged))}
    if other:
        info["possible_duplicate_of"] = sorted(other)
    items: list[LeadVaultModel] = [
        new_event(tenant_id, lead.lead_id, "submission", now, expires_at, info=info,
                  sealed_values=person.values, actor_key_id=submission.caller.key_id),
    ]
    items += [ClaimRecord(claim_key(tenant_id, kind, person.refs[kind]), lead_id=lead.lead_id)
              for kind in new_kinds]
    items += _consent_events(submission, person, lead.lead_id, now, expires_at)
    items += _audit(submission.caller, "lead.merge", lead.lead_id)
    if key:
        items.append(record(key, 200, answer, lead_id=lead.lead_id))
    write_all(items)
    return 200, answer


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
    names = {k for k in after if k not in ("fields", "utm") and before.get(k) != after.get(k)}
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
    if not person.purposes:
        return []
    info = {"grants": {purpose: True for purpose in person.purposes}, "policy_version": person.policy_version,
            "source": "lead_form", "ip_prefix": truncate_ip(submission.source_ip)}
    return [new_event(submission.caller.tenant_id, lead_id, "consent", now, expires_at,
                      info={k: v for k, v in info.items() if v}, actor_key_id=submission.caller.key_id)]


def _audit(caller: Caller, action: str, lead_id: str) -> list[LeadVaultModel]:
    """Staff (agent, admin) changes are audited; a person's own widget submission is on the timeline."""
    if caller.role == "widget":
        return []
    return [audit.build(caller.tenant_id, caller.key_id, action, lead_id)]
