"""The policies repository: policy versions, users' in-app inboxes, the dispatcher's walk of an
audience, and the notice ledger that makes each recipient's notice settle exactly once.

Key formats, sort keys, list positions, the ledger's conditions and transactions live here;
services get items to read and outcomes (claims, states, ``True``/``False``) to act on.
"""

from __future__ import annotations

import random
import re
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from hashlib import sha256
from typing import Any, TypeVar

from chalicelib import clock
from chalicelib.store import atomic
from chalicelib.store.base import plain
from chalicelib.store.conditional import applied
from chalicelib.store.models.claims import NoticeClaimRecord
from chalicelib.store.models.policies import InboxRecord, PolicyRecord
from chalicelib.store.models.timeline import TimelineRecord

# What services hold: a version and an inbox entry as read (attributes to read, never to set).
Policy = PolicyRecord
InboxItem = InboxRecord
Result = TypeVar("Result")
SCOPE_POSITION = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z#pol_[0-9a-f]{20}$")


def _conditional_put(item: Any, condition: Any) -> bool:
    """Put the item if the condition holds; False when it does not."""
    return applied(item.save, condition=condition)


# --- versions -----------------------------------------------------------------------------

def _effective_sort(effective_at: datetime, policy_id: str) -> str:
    return f"{clock.sort_stamp(effective_at)}#{policy_id}"


def policy_id_of(scope_key: str, version: str) -> str:
    """A version's id, the same for every attempt to publish it: a rerun finds what a dead run stored."""
    return "pol_" + sha256(f"{scope_key}#{version}".encode()).hexdigest()[:20]


def new_policy(policy_id: str, *, scope: str, scope_key: str, version: str, url: str, summary: str,
               effective_at: datetime, created_at: datetime) -> Policy:
    """An unsaved version (its audience is counted before it is stored, see :func:`publish`)."""
    return PolicyRecord(policy_id, scope=scope, scope_key=scope_key,
                        effective_sort=_effective_sort(effective_at, policy_id), version=version, url=url,
                        summary=summary, effective_at=effective_at, created_at=created_at)


CHANNELS = ("email", "sms", "in_app")
OUTCOMES = ("sent", "failed", "skipped")


def publish(policy: Policy, recipients: int, event: Any = None, by_channel: dict[str, int] | None = None) -> Policy:
    """Store the version with the size of the audience the dispatcher must reach (and how much of it each
    channel is expected to reach), unless an earlier attempt stored it already: then that one stands (its
    dispatch may have begun) and is returned.

    With an ``event`` (the event log's), both are one transaction: the event exists only with the version
    it reports, and an earlier attempt that stored the version wrote its event with it.
    """
    policy.recipients = recipients
    for channel, count in (by_channel or {}).items():
        setattr(policy, f"{channel}_recipients", count)
    absent = PolicyRecord.policy_id.does_not_exist()
    if event is None:
        if applied(policy.save, condition=absent):
            return policy
    else:
        try:
            atomic.commit([atomic.put(policy, absent, label="policy"), atomic.put(event)])
            return policy
        except atomic.Refused:
            pass
    return get(policy.policy_id) or policy


def get(policy_id: str) -> Policy | None:
    try:
        return PolicyRecord.get(policy_id, consistent_read=True)
    except PolicyRecord.DoesNotExist:
        return None


def by_version(scope_key: str, version: str) -> Policy | None:
    query = PolicyRecord.by_scope.query(scope_key, filter_condition=PolicyRecord.version == version)
    return next(iter(query), None)


def scope_page(scope_key: str, limit: int, after: str | None) -> tuple[list[Policy], str | None]:
    """One page of a scope's versions, latest effective first (one query), and the position after it, if more."""
    start = ({"scope_key": {"S": scope_key}, "effective_sort": {"S": after},
              "policy_id": {"S": after.rsplit("#", 1)[1]}} if after else None)
    query = PolicyRecord.by_scope.query(scope_key, scan_index_forward=False, limit=limit, last_evaluated_key=start)
    items = list(query)
    return items, (str(items[-1].effective_sort) if items and query.last_evaluated_key else None)


def is_scope_position(value: object) -> bool:
    """Whether a position from a cursor is one :func:`scope_page` gives out."""
    return isinstance(value, str) and bool(SCOPE_POSITION.match(value))


def progress_of(policy: Policy) -> dict[str, dict[str, int]]:
    """Per channel: its audience at publication and its settled counts (0 where nothing was kept)."""
    return {channel: {name: int(getattr(policy, f"{channel}_{name}", None) or 0)
                      for name in ("recipients", *OUTCOMES)} for channel in CHANNELS}


def in_force(scope_key: str, now: datetime) -> Policy | None:
    """The scope's latest version effective by ``now``."""
    query = PolicyRecord.by_scope.query(scope_key, PolicyRecord.effective_sort <= f"{clock.sort_stamp(now)}~",
                                        scan_index_forward=False, limit=1)
    return next(iter(query), None)


# --- dispatching: the walk of a version's audience ------------------------------------------

# Attempts at a dispatcher's write when DynamoDB fails past the SDK's own retries, or a settlement conflicts.
SETTLE_TRIES = 12
TRIES = 6


def undispatched() -> Iterator[Policy]:
    """Versions whose audience has not all been reached yet (a scan of the few versions there are)."""
    return PolicyRecord.scan(filter_condition=PolicyRecord.done.does_not_exist())


@dataclass
class Walk:
    """The dispatcher's pass over a version's audience: its number, where it got to in each shard
    (shard -> position or ``done``), and whether it met anyone not yet settled (then another follows)."""

    number: int
    positions: dict[str, str]
    dirty: bool


def walk_of(policy: Policy) -> Walk:
    positions = {str(shard): str(position) for shard, position in plain(policy.positions).items()}
    return Walk(int(policy.walk or 0), positions, bool(policy.dirty))


def _walk_is(number: int) -> Any:
    """This pass is still the version's current one, and the version is not finished."""
    same = PolicyRecord.walk == number
    if number == 0:
        same = same | PolicyRecord.walk.does_not_exist()
    return same & PolicyRecord.done.does_not_exist()


def _count_is(attribute: Any, value: int) -> Any:
    return attribute == value if value else attribute.does_not_exist() | (attribute == 0)


def save_positions(policy_id: str, walk: Walk) -> bool:
    """Where this pass got to (one write per page); False when another dispatcher began a new pass or finished."""
    return _retried(lambda: applied(PolicyRecord(policy_id).update, actions=[
        PolicyRecord.positions.set(walk.positions)], condition=_walk_is(walk.number)))


def mark_dirty(policy_id: str, walk: Walk) -> bool:
    """Say, before settling anyone, that this pass met someone unsettled: no dispatcher may then finish the
    version on this pass. False when the pass is over (a new one began, or the version was finished)."""
    return _retried(lambda: applied(PolicyRecord(policy_id).update, actions=[PolicyRecord.dirty.set(True)],
                                    condition=_walk_is(walk.number)))


def next_walk(policy_id: str, walk: Walk) -> Walk | None:
    """Begin the pass after ``walk`` (from the start of every shard); None when the version was finished meanwhile.

    Whoever begins it, every dispatcher then walks the same new pass (a refusal reads the version back)."""
    _retried(lambda: applied(PolicyRecord(policy_id).update, actions=[
        PolicyRecord.walk.set(walk.number + 1), PolicyRecord.positions.remove(), PolicyRecord.dirty.remove()],
        condition=_walk_is(walk.number) & PolicyRecord.dirty.exists()))
    policy = get(policy_id)
    return None if policy is None or policy.done else walk_of(policy)


def finish(policy_id: str, walk: Walk) -> bool:
    """End the version after a pass that met nobody unsettled: whoever was never met (erased and deleted since
    publication) is settled as skipped, in the same conditional write as ``done``; so ``sent + failed + skipped``
    is the audience. False when the pass turned out not to be clean (someone marked it meanwhile)."""
    for _attempt in range(TRIES):
        policy = get(policy_id)
        if policy is None or policy.done:
            return True  # ours, answered late, or another dispatcher's
        if int(policy.walk or 0) != walk.number or policy.dirty:
            return False
        sent, failed, skipped = int(policy.sent or 0), int(policy.failed or 0), int(policy.skipped or 0)
        vanished = int(policy.recipients or 0) - sent - failed - skipped
        actions: list[Any] = [PolicyRecord.done.set(True)]
        if vanished > 0:
            actions.append(PolicyRecord.skipped.add(vanished))
        unchanged = (_walk_is(walk.number) & PolicyRecord.dirty.does_not_exist() & _count_is(PolicyRecord.sent, sent)
                     & _count_is(PolicyRecord.failed, failed) & _count_is(PolicyRecord.skipped, skipped))
        if _retried(lambda a=actions, c=unchanged: applied(PolicyRecord(policy_id).update, actions=a, condition=c)):
            return True
    return False


# --- the notice ledger: one record per recipient and version, settled once -----------------
#
# A lead's record is a ``notice`` event on its timeline (erasure deletes it with the rest); a user's is a
# notice claim in ``unique_keys``. It goes ``claimed`` (with a lease) -> ``sent`` | ``failed``, or straight
# to ``skipped``; each settlement is one transaction with the version's counter, conditional on the
# settler's write token, so a counter moves once per recipient whatever is retried.

CLAIMED, SENT, FAILED, SKIPPED = "claimed", "sent", "failed", "skipped"
SETTLED = frozenset({SENT, FAILED, SKIPPED})
STALE = "stale"  # a claim whose lease ran out: its dispatcher died; the next to come resumes it
ALREADY, BUSY = "already", "busy"  # why a claim was not taken: settled before, or held by a live claim
LEAD, USER = "lead", "user"


@dataclass(frozen=True)
class Recipient:
    """Someone a version is told to: a lead or a user key; ``keep_until`` is how long their record lives."""

    kind: str  # LEAD | USER
    recipient_id: str
    tenant_id: str
    keep_until: datetime | None = None


@dataclass(frozen=True)
class NoticeClaim:
    """A claim this dispatcher holds: settle it after sending, or release it when the send must wait."""

    policy_id: str
    recipient: Recipient
    key: tuple[str, str | None]
    token: str
    notice_id: str  # the message's id downstream (Message-ID, SMS client reference)
    channel: str | None = None  # email | sms | in_app: whose counters its settlement moves too


def notice_id(policy: Policy, recipient: Recipient) -> str:
    """The same for every attempt at one recipient's notice: a resend after a crash is recognisable by it."""
    return f"{policy.policy_id}.{recipient.recipient_id}"


def _model(kind: str) -> Any:
    return TimelineRecord if kind == LEAD else NoticeClaimRecord


def _state_attribute(kind: str) -> Any:
    return TimelineRecord.state if kind == LEAD else NoticeClaimRecord.status


def _key(policy: Policy, kind: str, recipient_id: str) -> tuple[str, str | None]:
    if kind == LEAD:  # placed in the lead's timeline at the version's effective time
        return recipient_id, f"{clock.sort_stamp(policy.effective_at)}#evt_{policy.policy_id[4:]}"
    return f"notice#{policy.policy_id}#{recipient_id}#email", None


def _blank(kind: str, key: tuple[str, str | None]) -> Any:
    return TimelineRecord(key[0], key[1]) if kind == LEAD else NoticeClaimRecord(key[0])


def _state(kind: str, item: Any, now: datetime) -> str:
    state = item.state if kind == LEAD else item.status
    if state == CLAIMED:
        return STALE if item.lease_until is None or item.lease_until <= now else CLAIMED
    return state if state in SETTLED else SENT  # a record from before the ledger: told then


def _read(kind: str, key: tuple[str, str | None]) -> Any:
    def read() -> Any:
        try:
            return _model(kind).get(*[part for part in key if part is not None], consistent_read=True)
        except _model(kind).DoesNotExist:
            return None
    return _retried(read)


def notice_states(policy: Policy, kind: str, recipient_ids: Sequence[str]) -> dict[str, str]:
    """The ledger's word on each recipient (settled, ``claimed`` under a live lease, ``stale``); absent when
    not claimed yet. Strongly consistent batch reads, 100 a call."""
    now = clock.now()
    keys = {_key(policy, kind, recipient_id): recipient_id for recipient_id in recipient_ids}
    wanted = [key if key[1] is not None else key[0] for key in keys]
    found = _retried(lambda: list(_model(kind).batch_get(wanted, consistent_read=True))) if wanted else []
    states = {}
    for item in found:
        key = (item.owner, item.sort_key) if kind == LEAD else (item.pk, None)
        states[keys[key]] = _state(kind, item, now)
    return states


def _claimable(kind: str, now: datetime) -> Any:
    """Nobody has it, or its claim's lease ran out."""
    model = _model(kind)
    key = TimelineRecord.sort_key if kind == LEAD else NoticeClaimRecord.pk
    return key.does_not_exist() | ((_state_attribute(kind) == CLAIMED) & (model.lease_until <= now))


def _record(policy: Policy, recipient: Recipient, key: tuple[str, str | None], channel: str | None,
            state: str, token: str, lease_until: datetime | None) -> Any:
    if recipient.kind == LEAD:
        info: dict[str, Any] = {"kind": "policy", "policy_version": policy.version}
        if channel:
            info["channel"] = channel
        if state == SKIPPED:
            info["skipped"] = True
        event_id = key[1].split("#")[-1] if key[1] else ""
        return TimelineRecord(key[0], key[1], event_id=event_id, tenant_id=recipient.tenant_id, type="notice",
                              at=clock.now(), info=info, expires_at=recipient.keep_until, state=state,
                              write_token=token, lease_until=lease_until)
    return NoticeClaimRecord(key[0], status=state, write_token=token, lease_until=lease_until,
                             expires_at=recipient.keep_until)


def claim_notice(policy: Policy, recipient: Recipient, channel: str, lease: timedelta) -> NoticeClaim | str:
    """Claim one recipient's notice before it is sent: a :class:`NoticeClaim`, or ``already`` (settled) or
    ``busy`` (someone else's live claim). Our own put, applied but answered with a refusal on the SDK's retry,
    is read back by its token and is ours."""
    now, token = clock.now(), secrets.token_hex(8)
    key = _key(policy, recipient.kind, recipient.recipient_id)
    item = _record(policy, recipient, key, channel, CLAIMED, token, now + lease)
    if not _retried(lambda: applied(item.save, condition=_claimable(recipient.kind, now))):
        stored = _read(recipient.kind, key)
        if stored is None or stored.write_token != token:
            return ALREADY if stored is not None and _state(recipient.kind, stored, now) in SETTLED else BUSY
    return NoticeClaim(policy.policy_id, recipient, key, token, notice_id(policy, recipient), channel)


def settle_notice(claim: NoticeClaim, outcome: str) -> bool:
    """Record ``sent`` or ``failed`` and count it, in one transaction; False when the claim was no longer ours
    (our lease ran out and another dispatcher resumed it: it settles it)."""
    kind = claim.recipient.kind
    actions = [_state_attribute(kind).set(outcome), _model(kind).lease_until.remove()]
    if kind == LEAD and outcome == FAILED:
        actions.append(TimelineRecord.info["failed"].set(True))
    ours = (_state_attribute(kind) == CLAIMED) & (_model(kind).write_token == claim.token)
    writes = [atomic.update(_blank(kind, claim.key), actions, ours, label="notice"),
              _count(claim.policy_id, outcome, claim.channel)]
    return _settle(kind, claim.key, claim.token, outcome, writes, creates=False)


def skip_notice(policy: Policy, recipient: Recipient, channel: str | None = None) -> bool:
    """Settle a recipient who cannot be told (no contact left, a user's key gone) as ``skipped``, counted once;
    False when their record was settled or claimed by someone else."""
    now, token = clock.now(), secrets.token_hex(8)
    key = _key(policy, recipient.kind, recipient.recipient_id)
    item = _record(policy, recipient, key, channel, SKIPPED, token, None)
    writes = [atomic.put(item, _claimable(recipient.kind, now), label="notice"),
              _count(policy.policy_id, SKIPPED, channel)]
    return _settle(recipient.kind, key, token, SKIPPED, writes, creates=True)


def release_notice(claim: NoticeClaim) -> None:
    """Give a claim back when its send must wait (the backend failed for now): a later run sends it. Only our
    own claim is deleted; one taken over meanwhile is left to its holder."""
    kind = claim.recipient.kind
    ours = (_state_attribute(kind) == CLAIMED) & (_model(kind).write_token == claim.token)
    _retried(lambda: applied(_blank(kind, claim.key).delete, condition=ours))


def _count(policy_id: str, outcome: str, channel: str | None = None) -> atomic.Guarded:
    """The version's counter of ``outcome``, and its channel's, moved in the settlement's own transaction: each
    moves exactly when the ledger record settles (the transaction's token makes the SDK's retry apply it once)."""
    counter = {SENT: PolicyRecord.sent, FAILED: PolicyRecord.failed, SKIPPED: PolicyRecord.skipped}[outcome]
    actions = [counter.add(1)]
    if channel in CHANNELS:
        actions.append(getattr(PolicyRecord, f"{channel}_{outcome}").add(1))
    return atomic.update(PolicyRecord(policy_id), actions)


def _settle(kind: str, key: tuple[str, str | None], token: str, outcome: str, writes: list[atomic.Guarded],
            creates: bool) -> bool:
    """Commit a settlement; after a refusal, the record read back says whether it was ours after all (our commit
    applied, its answer lost) or still ours to retry (a conflicting write), or someone else's."""
    for attempt in range(SETTLE_TRIES):
        try:
            _retried(lambda: atomic.commit(writes))
            return True
        except (atomic.Refused, atomic.Contended):
            stored = _read(kind, key)
            if stored is not None and stored.write_token == token:
                if (stored.state if kind == LEAD else stored.status) == outcome:
                    return True
            elif stored is not None or not creates:
                return False
            _backoff(attempt)
    # Still ours and unsettled (the version's record kept being contended): not "taken over". Stop the
    # run with the claim held; the next run settles it after the lease (the documented resend window).
    raise atomic.Contended()


def _retried(call: Callable[[], Result]) -> Result:
    """Call again when DynamoDB failed past the SDK's own retries (throttled, 5xx, connection lost). Only for
    calls that are safe to repeat: reads, writes conditional on our own token or pass, transactions."""
    from botocore.exceptions import BotoCoreError, ClientError
    from pynamodb.exceptions import PynamoDBException

    for attempt in range(TRIES):
        try:
            return call()
        except (BotoCoreError, ClientError, PynamoDBException):
            if attempt == TRIES - 1:
                raise
            _backoff(attempt)
    raise AssertionError("unreachable")


def _backoff(attempt: int) -> None:
    time.sleep(min(2.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.0))


# --- inboxes ------------------------------------------------------------------------------

def _inbox_item(key_id: str, tenant_id: str, policy: Policy) -> InboxItem:
    return InboxRecord(key_id, policy.effective_sort, tenant_id=tenant_id, policy_id=policy.policy_id,
                       version=policy.version, url=policy.url, summary=policy.summary, created_at=clock.now())


def inbox_notice(key_id: str, tenant_id: str, *, ref: str, kind: str, url: str, summary: str,
                 at: datetime) -> InboxItem:
    """An unsaved in-app notice that is not a policy (a webhook disabled, say), for the write that causes it.

    ``ref`` is the id of what it is about (a ``whk_`` id); it stands in the policy's place and sorts by ``at``.
    """
    return InboxRecord(key_id, f"{clock.sort_stamp(at)}#{ref}", tenant_id=tenant_id, policy_id=ref, version=ref,
                       kind=kind, url=url, summary=summary, created_at=at)


def deliver_to_inbox(key_id: str, tenant_id: str, policy: Policy) -> bool:
    """Put the version in the user's inbox unless it is there already (then False, and it is left as is)."""
    return _conditional_put(_inbox_item(key_id, tenant_id, policy), InboxRecord.sort_key.does_not_exist())


def accept(key_id: str, tenant_id: str, policy: Policy, at: datetime) -> None:
    """Record the user's acceptance on their inbox entry of the version (made if it is not there)."""
    _inbox_item(key_id, tenant_id, policy).update(actions=[
        InboxRecord.accepted_at.set(at), InboxRecord.tenant_id.set(tenant_id),
        InboxRecord.policy_id.set(policy.policy_id), InboxRecord.version.set(policy.version),
        InboxRecord.url.set(policy.url), InboxRecord.summary.set(policy.summary),
        InboxRecord.created_at.set(at), InboxRecord.kind.set("policy"),
    ])


def inbox_page(key_id: str, limit: int, after: str | None) -> tuple[list[InboxItem], str | None]:
    """One page of a user's inbox, newest first, and the position the next page starts after (None at the end)."""
    start = {"key_id": {"S": key_id}, "sort_key": {"S": after}} if after else None
    query = InboxRecord.query(key_id, scan_index_forward=False, limit=limit, last_evaluated_key=start)
    items = list(query)
    return items, (items[-1].sort_key if query.last_evaluated_key and items else None)
