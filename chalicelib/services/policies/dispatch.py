"""``dispatch_notifications`` (every 5 minutes): each recipient told once per policy version per channel.

Exactly once, even with two dispatchers at once or a crash mid-run: before a message goes out,
its record is written with a condition (it must not exist) - on the person's timeline for a lead,
in the user's inbox and a claim for a user's e-mail. A crash after that write and before the send
loses that message rather than sending it twice. Policy notices are legal messages: they go out
whatever the person chose about marketing; erased people are gone, so they are never reached.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import PutError

from chalicelib import clock
from chalicelib.config import get_settings
from chalicelib.notify import DeliveryFailed, Message, send
from chalicelib.runtime import time_left
from chalicelib.services.leads.reading import is_live
from chalicelib.services.rights.preferences import preferences_url
from chalicelib.store.models.api_keys import ApiKeyRecord
from chalicelib.store.models.claims import NoticeClaimRecord
from chalicelib.store.models.leads import LIST_SHARDS, LeadRecord
from chalicelib.store.models.policies import PolicyRecord
from chalicelib.store.models.timeline import TimelineRecord
from chalicelib.vault import envelope

# Time kept in hand: one delivery may take its tries with backoff (SMTP times out after 10 s).
SAFETY_MS = 35_000
PAGE = 25
TRANSIENT_TRIES = 3
HasTime = Callable[[], bool]


class RateLimiter:
    """At most ``rate`` sends a second (0 means no limit), as the e-mail backend allows."""

    def __init__(self, rate: float, sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0
        self._sleep = sleep
        self._monotonic = monotonic

    def wait(self) -> None:
        now = self._monotonic()
        if self._next > now:
            self._sleep(self._next - now)
        self._next = max(now, self._next) + self._interval


def _lead_audience(policy: PolicyRecord, shard: int, start: str | None) -> Any:
    key = None
    if start:
        key = {"list_pk": {"S": f"{policy.scope_key}#{shard}"}, "list_sk": {"S": start},
               "lead_id": {"S": start.split("#")[-1]}}
    return LeadRecord.by_tenant.query(f"{policy.scope_key}#{shard}", limit=PAGE, last_evaluated_key=key)


def _reachable(lead: LeadRecord, policy: PolicyRecord) -> bool:
    """Live, with a contact, and already there when the version was published."""
    return is_live(lead) and bool(lead.email_ref or lead.phone_ref) and lead.created_at <= policy.created_at


def _users(policy: PolicyRecord) -> Iterator[ApiKeyRecord]:
    """Agent and admin keys with an e-mail, issued before the version was published."""
    return (key for key in ApiKeyRecord.scan() if key.role in ("agent", "admin") and key.revoked_at is None
            and key.email_sealed and key.subject_id and key.created_at <= policy.created_at)


def count_audience(policy: PolicyRecord) -> int:
    """How many people the version must reach (reads the audience once, at publication)."""
    if policy.scope == "platform":
        return sum(1 for _ in _users(policy))
    return sum(1 for shard in range(LIST_SHARDS)
               for lead in LeadRecord.by_tenant.query(f"{policy.scope_key}#{shard}") if _reachable(lead, policy))


def dispatch_notifications(context: Any) -> dict[str, int]:
    has_time = time_left(context, SAFETY_MS)

    limiter = RateLimiter(get_settings().send_rate)
    totals: Counter[str] = Counter()
    for policy in PolicyRecord.scan(filter_condition=PolicyRecord.done.does_not_exist()):
        finished = _dispatch(policy, has_time, limiter, totals)
        if not finished:
            return {**totals, "unfinished": 1}
        policy.update(actions=[PolicyRecord.done.set(True)])
    return {**totals, "unfinished": 0}


def _dispatch(policy: PolicyRecord, has_time: HasTime, limiter: RateLimiter, totals: Counter[str]) -> bool:
    if policy.scope == "platform":
        return _dispatch_users(policy, has_time, limiter, totals)
    positions = policy.positions.as_dict() if policy.positions else {}
    for shard in range(LIST_SHARDS):
        while positions.get(str(shard)) != "done":
            query = _lead_audience(policy, shard, positions.get(str(shard)))
            page = list(query)
            outcomes: Counter[str] = Counter()
            for lead in page:
                if not has_time():
                    _record(policy, positions, outcomes, totals)
                    return False
                if _reachable(lead, policy):
                    outcomes[_notify_lead(policy, lead, limiter)] += 1
            if outcomes["retry"]:
                # The backend is failing for now: keep this page's position, so the next run
                # comes back to it (those already told are skipped by their records).
                _record(policy, positions, outcomes, totals)
                return False
            positions[str(shard)] = page[-1].list_sk if page and query.last_evaluated_key else "done"
            _record(policy, positions, outcomes, totals)
    return True


def _record(policy: PolicyRecord, positions: dict[str, Any], outcomes: Counter[str], totals: Counter[str]) -> None:
    """One write per page: the position reached and the counts (never per recipient)."""
    totals.update(outcomes)
    actions = [PolicyRecord.positions.set(positions)]
    if outcomes["sent"]:
        actions.append(PolicyRecord.sent.add(outcomes["sent"]))
    if outcomes["failed"]:
        actions.append(PolicyRecord.failed.add(outcomes["failed"]))
    policy.update(actions=actions)


def _claimed(item: Any, condition: Any) -> bool:
    try:
        item.save(condition=condition)
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _deliver(message: Message, limiter: RateLimiter) -> str:
    """Send with backoff on transient failures; ``sent``, ``failed`` (permanent) or ``retry``."""
    for attempt in range(TRANSIENT_TRIES):
        limiter.wait()
        try:
            send(message)
            return "sent"
        except DeliveryFailed as failure:
            if failure.permanent:
                return "failed"
            time.sleep(0.2 * 2**attempt)
    return "retry"


def _notify_lead(policy: PolicyRecord, lead: LeadRecord, limiter: RateLimiter) -> str:
    try:  # the index may be a moment behind an erasure: check the lead itself
        lead = LeadRecord.get(lead.lead_id, consistent_read=True)
    except LeadRecord.DoesNotExist:
        return "skipped"
    if not _reachable(lead, policy):
        return "skipped"
    envelope.adopt_key(lead.tenant_id, lead.lead_id, lead.wrapped_key)
    values = json.loads(envelope.unseal(lead.tenant_id, lead.lead_id, "profile", lead.sealed))
    channel, to = ("email", values["email"]) if values.get("email") else ("sms", values.get("phone"))
    if not to:
        return "skipped"
    event_id = f"evt_{policy.policy_id[4:]}"  # one per policy version and person: the exactly-once key
    record = TimelineRecord(
        lead.lead_id, f"{clock.sort_stamp(policy.effective_at)}#{event_id}", event_id=event_id,
        tenant_id=lead.tenant_id, type="notice", at=clock.now(), expires_at=lead.expires_at,
        info={"kind": "policy", "policy_version": policy.version, "channel": channel},
    )
    if not _claimed(record, TimelineRecord.sort_key.does_not_exist()):
        return "already"
    outcome = _deliver(_policy_message(policy, channel, to, preferences_url(lead.tenant_id, lead.lead_id)), limiter)
    if outcome == "retry":
        record.delete()  # not sent: the next run tries again
    elif outcome == "failed":
        record.update(actions=[TimelineRecord.info.set({**record.info.as_dict(), "failed": True})])
    return outcome


def _policy_message(policy: PolicyRecord, channel: str, to: str, prefs: str) -> Message:
    text = (f"Our privacy policy changes (version {policy.version}, in force from "
            f"{policy.effective_at:%d %B %Y}). {policy.summary}\nRead it: {policy.url}")
    return Message(channel=channel, to=to, subject="Our privacy policy is changing", text=text, kind="legal",
                   preferences_url=prefs)


def _dispatch_users(policy: PolicyRecord, has_time: HasTime, limiter: RateLimiter, totals: Counter[str]) -> bool:
    from chalicelib.services.policies.publishing import inbox_item
    from chalicelib.store.models.policies import InboxRecord

    outcomes: Counter[str] = Counter()
    retries = 0
    for count, user in enumerate(_users(policy), start=1):
        if not has_time():
            _record(policy, {}, outcomes, totals)
            return False
        try:
            to = envelope.unseal(user.tenant_id, user.subject_id, "email", user.email_sealed)
        except envelope.SubjectKeyMissing:  # revoked meanwhile: its e-mail is already shredded
            outcomes["skipped"] += 1
            continue
        _claimed(inbox_item(user.key_id, user.tenant_id, policy), InboxRecord.sort_key.does_not_exist())
        claim = NoticeClaimRecord(f"notice#{policy.policy_id}#{user.key_id}#email",
                                  expires_at=clock.now() + timedelta(days=400))
        if not _claimed(claim, NoticeClaimRecord.pk.does_not_exist()):
            outcomes["already"] += 1
        else:
            outcome = _deliver(_policy_message(policy, "email", to, f"{get_settings().public_url}/v1/notifications"),
                               limiter)
            if outcome == "retry":
                claim.delete()
                retries += 1
            outcomes[outcome] += 1
        if count % PAGE == 0:
            _record(policy, {}, outcomes, totals)
            outcomes = Counter()
    _record(policy, {}, outcomes, totals)
    return retries == 0
