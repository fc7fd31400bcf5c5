"""The leads repository: one lead per person per tenant, with the identity claims that keep it so.

It owns everything DynamoDB about a lead: the key formats (list and agent partitions, claim and
suppression keys), the "live" filter, list positions, batching, and conditional writes, which
come back as plain outcomes (``True``/``False``) rather than exceptions. Services get
:class:`Lead` items to read and hand changes back as :class:`LeadChanges`; they never build an
item or an update expression. A lead's sealed fields open only through its :class:`SubjectKey`
(``key_of``), so nothing can seal or open them with another subject's key.
"""

from __future__ import annotations

import json
import random
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chalicelib import clock
from chalicelib.store import atomic, tokens
from chalicelib.store.atomic import Guarded
from chalicelib.store.base import plain
from chalicelib.store.batch import execute_statements, get_all, write_all
from chalicelib.store.conditional import applied
from chalicelib.store.models.claims import ClaimRecord, IdempotencyRecord, SuppressionRecord
from chalicelib.store.models.leads import LIST_SHARDS, LeadRecord
from chalicelib.store.models.policies import PolicyRecord
from chalicelib.vault.envelope import SubjectKey, forget_key, new_inline_key

# What services hold: a lead as read (attributes to read, never to set).
Lead = LeadRecord
Claim = ClaimRecord

PROFILE = "profile"
IDENTIFIER_KINDS = ("phone", "email")
# A claim whose lead is missing is a crash leftover only once the creating request must be over.
SUMMARY_TRIES = 12

__all__ = ["IDENTIFIER_KINDS", "LIST_SHARDS", "Claim", "Lead", "LeadChanges", "ListFilter", "ListPage", "NewLead"]


# --- keys ---------------------------------------------------------------------------------

def claim_key(tenant_id: str, kind: str, ref: str) -> str:
    return f"{tenant_id}#{kind}#{ref}"


def suppression_key(tenant_id: str, kind: str, ref: str) -> str:
    return f"{tenant_id}#suppressed#{kind}#{ref}"


HELD = "9999-12-31T23:59:59.999999Z"


def list_key(lead_id: str, expires_at: datetime | None) -> str:
    """A lead's list and purge position: its expiry (held leads, without one, sort last)."""
    when = clock.sort_stamp(expires_at) if expires_at else HELD
    return f"{when}#{lead_id}"


def list_shard(lead_id: str) -> int:
    return int(lead_id[-2:], 16) % LIST_SHARDS


def list_partition(tenant_id: str, lead_id: str) -> str:
    return f"{tenant_id}#{list_shard(lead_id) % LIST_SHARDS}"


def shard_partitions(tenant_id: str) -> list[str]:
    """Every list partition of a tenant (or of a policy scope, which is a tenant id or ``global``)."""
    return [f"{tenant_id}#{shard}" for shard in range(LIST_SHARDS)]


def agent_partition(tenant_id: str, agent_id: str) -> str:
    return f"{tenant_id}#{agent_id}"


def refs_of(lead: Lead) -> dict[str, str]:
    """The blind indexes of the identifiers the lead holds (proven or given), by kind."""
    return {kind: ref for kind, ref in (("phone", lead.phone_ref), ("email", lead.email_ref)) if ref}


def claim_keys_of(lead: Lead) -> list[str]:
    return [claim_key(lead.tenant_id, kind, ref) for kind, ref in refs_of(lead).items()]


# --- reading an item's maps (PynamoDB gives MapAttribute once read, a dict before) ---------

def consents_of(lead: Lead) -> dict[str, bool]:
    """The lead's consent summary (what the ledger says now), as a plain dict."""
    return plain(lead.consents)


def identity_of(lead: Lead) -> dict[str, str]:
    """How each identifier got here: ``given``, ``staff`` or ``proven``."""
    return plain(lead.identity)


def first_submission_of(lead: Lead) -> dict[str, Any]:
    return plain(lead.first_submission)


# --- opening ------------------------------------------------------------------------------

def key_of(lead: Lead) -> SubjectKey:
    """The lead's data key (wrapped inline on the item): the only key its fields open with."""
    return SubjectKey(lead.tenant_id, lead.lead_id, lead.wrapped_key)


def open_profile(lead: Lead) -> dict[str, Any]:
    """The sealed profile (name, phone, email, fields, utm, pending identifiers), opened."""
    return json.loads(key_of(lead).unseal(PROFILE, lead.sealed)) if lead.sealed else {}


def seal_profile(key: SubjectKey, profile: dict[str, Any]) -> bytes:
    return key.seal(PROFILE, json.dumps(profile))


# --- reading ------------------------------------------------------------------------------

def is_live(lead: Lead, now: datetime | None = None) -> bool:
    """Expired (even if not yet purged) and erased leads are invisible everywhere."""
    now = now or clock.now()
    return bool(lead.wrapped_key) and (lead.expires_at is None or lead.expires_at > now)


def get(lead_id: str) -> Lead | None:
    """The lead item (strongly consistent), live or not; None when there is none."""
    try:
        return LeadRecord.get(lead_id, consistent_read=True)
    except LeadRecord.DoesNotExist:
        return None


def live(tenant_id: str, lead_id: str | None) -> Lead | None:
    """The tenant's lead if it is live; None when missing, expired, erased or another tenant's."""
    lead = get(lead_id) if lead_id else None
    return lead if lead is not None and lead.tenant_id == tenant_id and is_live(lead) else None


def many(lead_ids: Iterable[str]) -> dict[str, Lead]:
    """Leads by id (strongly consistent, 100 a call), whatever their state."""
    ids = sorted(set(lead_ids))
    if not ids:
        return {}
    return {lead.lead_id: lead for lead in LeadRecord.batch_get(ids, consistent_read=True)}


def live_many(tenant_id: str, lead_ids: Iterable[str]) -> dict[str, Lead]:
    """The tenant's live leads among these ids."""
    return {lead_id: lead for lead_id, lead in many(lead_ids).items() if lead.tenant_id == tenant_id and is_live(lead)}


def _start_key(hash_name: str, hash_value: str, position: str | None) -> dict[str, Any] | None:
    if position is None:
        return None
    return {hash_name: {"S": hash_value}, "list_sk": {"S": position}, "lead_id": {"S": position.split("#")[-1]}}


@dataclass(frozen=True)
class ListFilter:
    """What a staff list keeps, as a FilterExpression inside its Query (never a Scan): the index key
    picks the partition and order; these conditions only drop items the Query has read."""

    stage: str | None = None
    agent_id: str | None = None  # on the tenant index; an agent's own list is keyed by its agent
    source: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None

    def condition(self, now: datetime | None = None) -> Any:
        condition = LeadRecord.wrapped_key.exists() & (LeadRecord.expires_at.does_not_exist()
                                                       | (LeadRecord.expires_at > (now or clock.now())))
        if self.stage is not None:
            condition &= LeadRecord.stage == self.stage
        if self.agent_id is not None:
            condition &= LeadRecord.assigned_agent == self.agent_id
        if self.source is not None:
            condition &= LeadRecord.source == self.source
        if self.created_from is not None:
            condition &= LeadRecord.created_at >= self.created_from
        if self.created_to is not None:
            condition &= LeadRecord.created_at <= self.created_to
        return condition

    def keeps(self, lead: Lead) -> bool:
        """The same test on a lead read by key (a search), so a search and a list agree."""
        return (is_live(lead) and self.stage in (None, lead.stage) and self.agent_id in (None, lead.assigned_agent)
                and self.source in (None, lead.source)
                and (self.created_from is None or lead.created_at >= self.created_from)
                and (self.created_to is None or lead.created_at <= self.created_to))


@dataclass(frozen=True)
class ListPage:
    """One Query page of a list: the leads it kept, where the next read resumes (None: nothing more),
    and how many items it read (its read capacity follows that count, not the leads kept)."""

    leads: list[Lead]
    resume_at: str | None
    read: int


ACTIVITY = LeadRecord.activity_sk.attr_name  # the activity indexes' range key, as stored


def activity_key(lead_id: str, last_activity_at: datetime) -> str:
    """A lead's place in the staff lists: its last activity, then its id (unique, sorts as text)."""
    return f"{clock.sort_stamp(last_activity_at)}#{lead_id}"


def activity_position(lead: Lead) -> str:
    """Where a lead sits in the activity lists (an opaque position for cursors)."""
    return str(lead.activity_sk)


def _activity_page(index: Any, hash_name: str, partition: str, size: int, after: str | None,
                   keep: ListFilter) -> ListPage:
    """Exactly one Query call, newest activity first, reading at most ``size`` items after ``after``."""
    start = None
    if after is not None:
        start = {hash_name: {"S": partition}, ACTIVITY: {"S": after}, "lead_id": {"S": after.split("#")[-1]}}
    query = index.query(partition, scan_index_forward=False, page_size=size, last_evaluated_key=start,
                        filter_condition=keep.condition())
    page = next(query.page_iter)
    resume = query.page_iter.last_evaluated_key
    return ListPage([LeadRecord.from_raw_data(item) for item in page.get("Items", [])],
                    resume[ACTIVITY]["S"] if resume else None, int(page.get("ScannedCount", 0)))


def newest_of_agent(tenant_id: str, agent_id: str, size: int, after: str | None, keep: ListFilter) -> ListPage:
    """One page of the live leads assigned to an agent, most recently active first."""
    return _activity_page(LeadRecord.by_agent_activity, "agent_pk", agent_partition(tenant_id, agent_id), size,
                          after, keep)


def newest_of_shard(tenant_id: str, shard: str, size: int, after: str | None, keep: ListFilter) -> ListPage:
    """One page of the live leads of one list shard, most recently active first."""
    return _activity_page(LeadRecord.by_activity, "list_pk", f"{tenant_id}#{shard}", size, after, keep)


def position_of(lead: Lead) -> str:
    """Where a lead sits in the expiry index (an opaque position for jobs that walk it)."""
    return str(lead.list_sk)


def due(tenant_id: str, now: datetime, page_size: int) -> Iterator[Lead]:
    """Leads whose expiry has passed, oldest first, across the tenant's shards (held leads never are)."""
    for partition in shard_partitions(tenant_id):
        yield from LeadRecord.by_tenant.query(partition, LeadRecord.list_sk < clock.sort_stamp(now),
                                              page_size=page_size)


def expiring_between(tenant_id: str, start: datetime, end: datetime) -> Iterator[Lead]:
    """Leads whose expiry falls in ``[start, end]`` (for retention warnings)."""
    for partition in shard_partitions(tenant_id):
        window = LeadRecord.list_sk.between(clock.sort_stamp(start), clock.sort_stamp(end))
        yield from LeadRecord.by_tenant.query(partition, window)


def all_of_scope(scope: str) -> Iterator[Lead]:
    for partition in shard_partitions(scope):
        yield from LeadRecord.by_tenant.query(partition)


# --- identity claims ----------------------------------------------------------------------

@dataclass(frozen=True)
class Identity:
    """What the unique keys say about a person's identifiers (one consistent batch read)."""

    claims: dict[str, Claim]  # by kind, only those that exist
    suppressed: bool  # erased before: marketing never resumes
    policies: frozenset[str] = frozenset()  # the asked-for policy ids that exist


def look_up(tenant_id: str, refs: dict[str, str], policy_ids: Sequence[str] = ()) -> Identity:
    """The claims of these identifiers, whether any is suppressed, and which of ``policy_ids`` were
    published: one consistent batch read for all three."""
    claim_keys = {kind: claim_key(tenant_id, kind, ref) for kind, ref in refs.items()}
    suppression_keys = [suppression_key(tenant_id, kind, ref) for kind, ref in refs.items()]
    wanted: list[tuple[Any, str]] = [(ClaimRecord, pk) for pk in claim_keys.values()]
    wanted += [(SuppressionRecord, pk) for pk in suppression_keys]
    wanted += [(PolicyRecord, policy_id) for policy_id in policy_ids]
    found = get_all(wanted) if wanted else {}
    claims = {kind: found[pk] for kind, pk in claim_keys.items() if isinstance(found.get(pk), ClaimRecord)}
    return Identity(claims=claims,  # type: ignore[arg-type]
                    suppressed=any(pk in found for pk in suppression_keys),
                    policies=frozenset(pid for pid in policy_ids if isinstance(found.get(pid), PolicyRecord)))


def claims_of_phones(tenant_id: str, refs: Iterable[str]) -> dict[str, Claim]:
    """The phone claims of these blind indexes, by index (one batch read)."""
    keys = {ref: claim_key(tenant_id, "phone", ref) for ref in refs}
    found = get_all([(ClaimRecord, pk) for pk in keys.values()]) if keys else {}
    return {ref: found[pk] for ref, pk in keys.items() if isinstance(found.get(pk), ClaimRecord)}  # type: ignore[misc]


def holders(tenant_id: str, identifiers: dict[str, str]) -> dict[str, str]:
    """Which lead holds each identifier (by kind), for those claimed."""
    return {kind: claim.lead_id for kind, claim in look_up(tenant_id, identifiers).claims.items()}


def claim_item(tenant_id: str, kind: str, ref: str, lead_id: str) -> Claim:
    """An unsaved claim, for a batch."""
    return ClaimRecord(claim_key(tenant_id, kind, ref), lead_id=lead_id, claimed_at=clock.wall_now())


def claim_removal(tenant_id: str, kind: str, ref: str) -> Claim:
    """The key of a claim to delete in a batch."""
    return ClaimRecord(claim_key(tenant_id, kind, ref))


def take_claim(tenant_id: str, kind: str, ref: str, lead_id: str, holder: str | None = None) -> bool:
    """Claim an identifier for a lead if it is free, already the lead's, or (given) still ``holder``'s."""
    condition = ClaimRecord.pk.does_not_exist() | (ClaimRecord.lead_id == lead_id)
    if holder is not None:
        condition = ClaimRecord.lead_id == holder
    return applied(claim_item(tenant_id, kind, ref, lead_id).save, condition=condition)


def claim_holder(tenant_id: str, kind: str, ref: str) -> str | None:
    """The lead a claim names, or None when there is no claim."""
    try:
        return ClaimRecord.get(claim_key(tenant_id, kind, ref), consistent_read=True).lead_id
    except ClaimRecord.DoesNotExist:
        return None


def release_claim(tenant_id: str, kind: str, ref: str, lead_id: str) -> None:
    """Delete the claim if it still names ``lead_id`` (another lead's claim is left alone)."""
    applied(ClaimRecord(claim_key(tenant_id, kind, ref)).delete, condition=ClaimRecord.lead_id == lead_id)


def own_claims(leads: Sequence[Lead]) -> list[Claim]:
    """The claims that still name these leads (one batch read)."""
    keys = [pk for lead in leads for pk in claim_keys_of(lead)]
    found = get_all([(ClaimRecord, pk) for pk in keys]) if keys else {}
    ids = {lead.lead_id for lead in leads}
    return [claim for claim in found.values() if isinstance(claim, ClaimRecord) and claim.lead_id in ids]


def suppress(tenant_id: str, refs: dict[str, str], now: datetime) -> None:
    """Remember an erased person's identifiers (keyed hashes only) so marketing never resumes."""
    write_all([SuppressionRecord(suppression_key(tenant_id, kind, ref), added_at=now) for kind, ref in refs.items()])


# --- writing ------------------------------------------------------------------------------

@dataclass(frozen=True)
class NewLead:
    """An unsaved lead and its data key (to seal its events and calls in the same batch)."""

    lead: Lead
    key: SubjectKey


def new_lead(
    tenant_id: str,
    lead_id: str,
    profile: dict[str, Any],
    *,
    refs: dict[str, str],
    identity: dict[str, str],
    source: str,
    lawful_basis: str,
    consents: dict[str, bool],
    first_submission: dict[str, Any],
    now: datetime,
    expires_at: datetime,
    idempotency_pk: str | None = None,
    confirm_refs: set[str] | None = None,
    suppressed: bool = False,
    last_contacted_at: datetime | None = None,
    assigned_agent: str | None = None,
) -> NewLead:
    """The one way a lead is made (form, call or staff): a fresh data key, the profile sealed under it."""
    inline = new_inline_key(tenant_id, lead_id)
    lead = LeadRecord(
        lead_id,
        tenant_id=tenant_id,
        wrapped_key=inline.wrapped,
        master_key=inline.master_key,
        sealed=seal_profile(inline.key, profile),
        phone_ref=refs.get("phone"),
        email_ref=refs.get("email"),
        identity=identity,
        source=source,
        lawful_basis=lawful_basis,
        consents=consents,
        first_submission=first_submission,
        idempotency_refs={idempotency_pk} if idempotency_pk else None,
        confirm_refs=confirm_refs or None,
        marketing_suppressed=True if suppressed else None,
        created_at=now,
        updated_at=now,
        last_activity_at=now,
        last_contacted_at=last_contacted_at,
        list_pk=list_partition(tenant_id, lead_id),
        list_sk=list_key(lead_id, expires_at),
        activity_sk=activity_key(lead_id, now),
        assigned_agent=assigned_agent,
        agent_pk=agent_partition(tenant_id, assigned_agent) if assigned_agent else None,
        expires_at=expires_at,
    )
    return NewLead(lead, inline.key)


@dataclass
class LeadChanges:
    """What a use case changes on a lead; the repository turns it into one conditional update."""

    profile: dict[str, Any] | None = None  # resealed under the lead's own key
    consents: dict[str, bool] | None = None
    stage: str | None = None
    assigned_agent: str | None = None
    identity: dict[str, str] | None = None
    refs: dict[str, str] = field(default_factory=dict)  # kind -> blind index of an identifier now held
    activity_at: datetime | None = None  # activity restarts the retention clock at ``expires_at``
    expires_at: datetime | None = None
    updated_at: datetime | None = None
    suppressed: bool = False
    idempotency_pk: str | None = None
    confirm_refs: set[str] | None = None

    def actions(self, lead: Lead) -> list[Any]:
        actions: list[Any] = []
        if self.profile is not None:
            actions.append(LeadRecord.sealed.set(seal_profile(key_of(lead), self.profile)))
        if self.consents is not None:
            actions.append(LeadRecord.consents.set(self.consents))
        if self.stage is not None:
            actions.append(LeadRecord.stage.set(self.stage))
        if self.assigned_agent is not None:
            actions += [LeadRecord.assigned_agent.set(self.assigned_agent),
                        LeadRecord.agent_pk.set(agent_partition(lead.tenant_id, self.assigned_agent))]
        if self.identity is not None:
            actions.append(LeadRecord.identity.set(self.identity))
        for kind, ref in self.refs.items():
            actions.append(getattr(LeadRecord, f"{kind}_ref").set(ref))
        if self.updated_at is not None:
            actions.append(LeadRecord.updated_at.set(self.updated_at))
        if self.activity_at is not None:
            actions += [LeadRecord.last_activity_at.set(self.activity_at),
                        LeadRecord.activity_sk.set(activity_key(lead.lead_id, self.activity_at))]
            if self.expires_at is not None:
                actions += _renewal(lead, self.expires_at, self.activity_at)
        if self.suppressed:
            actions.append(LeadRecord.marketing_suppressed.set(True))
        if self.idempotency_pk:
            actions.append(LeadRecord.idempotency_refs.add({self.idempotency_pk}))
        if self.confirm_refs is not None:
            actions.append(LeadRecord.confirm_refs.set(self.confirm_refs or None))
        return actions


def _renewal(lead: Lead, expires_at: datetime, now: datetime) -> list[Any]:
    """Restart a lead's retention clock; a held lead banks it until release."""
    if lead.legal_hold:
        return [LeadRecord.held_remaining_s.set(max(0, int((expires_at - now).total_seconds())))]
    return [LeadRecord.expires_at.set(expires_at), LeadRecord.list_sk.set(list_key(lead.lead_id, expires_at))]


def update(lead: Lead, changes: LeadChanges) -> bool:
    """Apply the changes if the lead is still at the version read; False when another write came first
    (the caller reads again or reports the conflict). ``lead`` reflects the changes afterwards.

    The update carries a write token: when the SDK retries it after a lost answer, the retry is refused
    by the version the first attempt already moved, and the token read back says the write was ours.
    """
    token, expected = secrets.token_hex(8), lead.version

    def mine() -> bool:
        stored = get(lead.lead_id)
        if stored is None or stored.write_token != token:
            return False
        lead.attribute_values = stored.attribute_values
        return True

    actions = [*changes.actions(lead), LeadRecord.version.set(expected + 1), LeadRecord.write_token.set(token)]
    return applied(lead.update, mine=mine, actions=actions, condition=LeadRecord.version == expected)


def update_write(lead: Lead, changes: LeadChanges) -> Guarded:
    """The same versioned update as a write of an atomic commit (refusal labelled ``lead``); read the
    lead again afterwards to see it. The transaction's idempotency token makes a retried one apply once."""
    actions = [*changes.actions(lead), LeadRecord.version.set(lead.version + 1)]
    return atomic.update(lead, actions, LeadRecord.version == lead.version, label="lead")


def creation_writes(new: NewLead, claims: dict[str, str | None]) -> list[Guarded]:
    """A new lead and its identity claims as writes of an atomic commit.

    ``claims`` maps each identifier kind to the stale lead whose leftover claim may be taken over
    (None: the claim must be free). A refusal is labelled ``claim:<kind>``: someone else holds it.
    """
    lead = new.lead
    writes = [atomic.put(lead, LeadRecord.lead_id.does_not_exist(), label="lead")]
    for kind, stale in claims.items():
        writes.append(claim_write(lead.tenant_id, kind, str(getattr(lead, f"{kind}_ref")), lead.lead_id, stale))
    return writes


def claim_write(tenant_id: str, kind: str, ref: str, lead_id: str, stale: str | None = None) -> Guarded:
    """Claim an identifier in an atomic commit: it must be free (or still held by the ``stale`` lead)."""
    condition = ClaimRecord.pk.does_not_exist()
    if stale is not None:
        condition = condition | (ClaimRecord.lead_id == stale)
    return atomic.put(claim_item(tenant_id, kind, ref, lead_id), condition, label=f"claim:{kind}")


def set_consents(lead: Lead, summarise: Callable[[dict[str, bool]], dict[str, bool]],
                 confirm_refs: set[str] | None = None) -> None:
    """Replace the lead's consent summary with ``summarise(current summary)``, at the lead's version.

    Two writers at once (a merge, a consent, a confirmation) must not lose each other's grant: a
    refused update reads the lead again and summarises afresh, with full-jitter backoff.
    """
    for attempt in range(SUMMARY_TRIES):
        if update(lead, LeadChanges(consents=summarise(consents_of(lead)), confirm_refs=confirm_refs)):
            return
        fresh = get(lead.lead_id)
        if fresh is None:
            return  # erased meanwhile: nothing left to summarise
        lead.attribute_values = fresh.attribute_values
        time.sleep(min(0.5, 0.01 * 2**attempt) * random.random())
    raise atomic.Contended()


def set_clocks_if_unchanged(changes: list[tuple[Lead, dict[str, datetime]]]) -> list[Lead]:
    """Move many leads' contact and activity clocks, 25 a call (PartiQL), each only if unchanged since read.

    Returns the leads that changed meanwhile (their statement was refused), for the caller to retry.
    """
    table = LeadRecord.Meta.table_name
    statements = []
    for lead, values in changes:
        movable: list[tuple[Any, dict[str, str]]] = [
            (LeadRecord.last_contacted_at, {"S": LeadRecord.last_contacted_at.serialize(values["last_contacted_at"])}),
            (LeadRecord.last_activity_at, {"S": LeadRecord.last_activity_at.serialize(values["last_activity_at"])}),
            (LeadRecord.activity_sk, {"S": activity_key(lead.lead_id, values["last_activity_at"])}),
        ]
        if lead.legal_hold:  # a held lead's clock is banked, not set (see _renewal)
            banked = max(0, int((values["expires_at"] - values["last_activity_at"]).total_seconds()))
            movable.append((LeadRecord.held_remaining_s, {"N": str(banked)}))
        else:
            movable += [(LeadRecord.expires_at, {"N": LeadRecord.expires_at.serialize(values["expires_at"])}),
                        (LeadRecord.list_sk, {"S": list_key(lead.lead_id, values["expires_at"])})]
        # Names quoted: a short stored name may be a PartiQL word.
        assignments = ", ".join(f'"{attribute.attr_name}"=?' for attribute, _ in movable)
        parameters = [value for _, value in movable] + [{"S": lead.lead_id}, {"N": str(lead.version)}]
        # Only our own table and attribute names are interpolated; every value is a parameter.
        statement = f'UPDATE "{table}" SET {assignments} WHERE lead_id=? AND version=?'  # noqa: S608
        statements.append({"Statement": statement, "Parameters": parameters})
    refused = execute_statements(statements)
    return [changes[index][0] for index in refused]


def set_expiry_if_unchanged(changes: list[tuple[Lead, datetime]]) -> list[Lead]:
    """Re-date many leads, 25 a call, each only if unchanged since read; returns those refused."""
    table = LeadRecord.Meta.table_name
    statements = []
    for lead, expires_at in changes:
        statement = (f'UPDATE "{table}" SET {LeadRecord.expires_at.attr_name}=?, {LeadRecord.list_sk.attr_name}=? '  # noqa: S608
                     "WHERE lead_id=? AND version=?")
        statements.append({"Statement": statement, "Parameters": [
            {"N": LeadRecord.expires_at.serialize(expires_at)}, {"S": list_key(lead.lead_id, expires_at)},
            {"S": lead.lead_id}, {"N": str(lead.version)}]})
    refused = execute_statements(statements)
    return [changes[index][0] for index in refused]


def mark_warned(lead: Lead, expiry: str) -> bool:
    """Record that the person was warned about this expiry; False if they already were, or it moved."""
    not_told = LeadRecord.retention_notice_for.does_not_exist() | (LeadRecord.retention_notice_for != expiry)
    return applied(lead.update, actions=[LeadRecord.retention_notice_for.set(expiry)],
                   condition=not_told & (LeadRecord.expires_at == lead.expires_at))


def hold(lead: Lead, reason: str, remaining_s: int) -> None:
    """Suspend retention and erasure; the seconds left are banked until release."""
    lead.update(actions=[LeadRecord.legal_hold.set(True), LeadRecord.legal_hold_reason.set(reason),
                         LeadRecord.held_remaining_s.set(remaining_s), LeadRecord.expires_at.remove(),
                         LeadRecord.list_sk.set(list_key(lead.lead_id, None))])


def release_hold(lead: Lead, resumed: datetime) -> None:
    lead.update(actions=[LeadRecord.legal_hold.remove(), LeadRecord.legal_hold_reason.remove(),
                         LeadRecord.held_remaining_s.remove(), LeadRecord.expires_at.set(resumed),
                         LeadRecord.list_sk.set(list_key(lead.lead_id, resumed))])


# --- removing -----------------------------------------------------------------------------

def shred(tenant_id: str, lead_id: str, *, only_if_due: datetime | None = None) -> bool:
    """Remove the lead's key and sealed profile (crypto-shredding); False if it is gone or the guard fails.

    ``only_if_due``: only if it expired by then and is not held (the purge).
    """
    guard = LeadRecord.lead_id.exists()
    if only_if_due is not None:
        guard &= (LeadRecord.expires_at.exists() & (LeadRecord.expires_at <= only_if_due)
                  & LeadRecord.legal_hold.does_not_exist())
    try:
        return applied(LeadRecord(lead_id).update, condition=guard,
                       actions=[LeadRecord.wrapped_key.remove(), LeadRecord.sealed.remove()])
    finally:
        forget_key(tenant_id, lead_id)


def delete(leads: Sequence[Lead], claims: Sequence[Claim], events: Sequence[Any] = ()) -> dict[str, int]:
    """Delete the given claims and the leads' idempotency records and links, then the leads themselves,
    in one batch with their ``events`` (the event log's, retried with the leads until every item lands)."""
    linked = [*(IdempotencyRecord(pk) for lead in leads for pk in lead.idempotency_refs or ()),
              *(tokens.removal(pk) for lead in leads for pk in lead.confirm_refs or ())]
    write_all(deletes=[*claims, *linked])
    write_all(puts=list(events), deletes=list(leads))
    return {"identity_claims": len(claims), "idempotency_records": len(linked), "leads": len(leads)}



def fill_activity_position(lead: Lead) -> bool:
    """Give a lead written before the activity indexes its place in them (from its own last activity), only if
    it still has none; False when it had one (a write since set it). Safe to run again."""
    return applied(lead.update, actions=[LeadRecord.activity_sk.set(activity_key(lead.lead_id, lead.last_activity_at))],
                   condition=LeadRecord.lead_id.exists() & LeadRecord.activity_sk.does_not_exist())


# --- pages from a saved position (dispatch, re-dating) ------------------------------------

def page_from(scope: str, shard: int, limit: int, position: str | None) -> tuple[list[Lead], str | None]:
    """One page of every lead of a tenant (or policy scope) in one list shard, in expiry order, resuming
    after a saved position; and the position to save for the next page (None when the shard is done).

    For jobs that walk a whole tenant across runs (policy notices, re-dating) and keep where they got to.
    """
    partition = f"{scope}#{shard}"
    query = LeadRecord.by_tenant.query(partition, limit=limit,
                                       last_evaluated_key=_start_key("list_pk", partition, position))
    page = list(query)
    return page, (position_of(page[-1]) if page and query.last_evaluated_key else None)
