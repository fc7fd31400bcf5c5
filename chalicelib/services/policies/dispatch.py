"""``dispatch_notifications`` (every 5 minutes): each recipient told once per policy version per channel.

Exactly once, even with two dispatchers at once or a crash mid-run: before a message goes out,
its record is written with a condition (it must not exist) - on the person's timeline for a lead,
in the user's inbox and a notice claim for a user's e-mail. A crash after that write and before
the send loses that message rather than sending it twice. Policy notices are legal messages: they
go out whatever the person chose about marketing; erased people are gone, so they are never reached.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from chalicelib import clock
from chalicelib.config import get_settings
from chalicelib.notify import DeliveryFailed, Message, send
from chalicelib.runtime import HasTime, time_left
from chalicelib.services.rights.preferences import preferences_url
from chalicelib.services.tenants.tenancy import Tenant, require_tenant
from chalicelib.store import leads, policies, tenants, timeline
from chalicelib.store.leads import Lead
from chalicelib.store.policies import Policy
from chalicelib.store.tenants import ApiKey
from chalicelib.vault import envelope

# Time kept in hand: one delivery may take its tries with backoff (SMTP times out after 10 s).
SAFETY_MS = 35_000
PAGE = 25
TRANSIENT_TRIES = 3
DONE = "done"  # the position of an audience shard every lead of which was reached
# A user's notice claim outlives any dispatch of its version by far, then TTL removes it.
NOTICE_CLAIM_KEEP = timedelta(days=400)


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


def _reachable(lead: Lead, policy: Policy) -> bool:
    """Live, with a contact, and already there when the version was published."""
    return leads.is_live(lead) and bool(lead.email_ref or lead.phone_ref) and lead.created_at <= policy.created_at


def _users(policy: Policy) -> Iterator[ApiKey]:
    """Agent and admin keys with an e-mail, issued before the version was published."""
    return (key for key in tenants.live_keys("agent", "admin")
            if key.email_sealed and key.subject_id and key.created_at <= policy.created_at)


def count_audience(policy: Policy) -> int:
    """How many people the version must reach (reads the audience once, at publication)."""
    if policy.scope == "platform":
        return sum(1 for _ in _users(policy))
    return sum(1 for lead in leads.all_of_scope(policy.scope_key) if _reachable(lead, policy))


def dispatch_notifications(context: Any) -> dict[str, int]:
    has_time = time_left(context, SAFETY_MS)

    limiter = RateLimiter(get_settings().send_rate)
    totals: Counter[str] = Counter()
    for policy in policies.undispatched():
        finished = _dispatch(policy, has_time, limiter, totals)
        if not finished:
            return {**totals, "unfinished": 1}
        policies.mark_dispatched(policy)
    return {**totals, "unfinished": 0}


def _dispatch(policy: Policy, has_time: HasTime, limiter: RateLimiter, totals: Counter[str]) -> bool:
    if policy.scope == "platform":
        return _dispatch_users(policy, has_time, limiter, totals)
    tenant = require_tenant(policy.scope_key)
    positions = policies.positions_of(policy)
    for shard in range(leads.LIST_SHARDS):
        while positions.get(str(shard)) != DONE:
            page, next_position = leads.page_from(policy.scope_key, shard, PAGE, positions.get(str(shard)))
            outcomes: Counter[str] = Counter()
            for lead in page:
                if not has_time():
                    _record(policy, positions, outcomes, totals)
                    return False
                if _reachable(lead, policy):
                    outcomes[_notify_lead(policy, tenant, lead, limiter)] += 1
            if outcomes["retry"]:
                # The backend is failing for now: keep this page's position, so the next run
                # comes back to it (those already told are skipped by their records).
                _record(policy, positions, outcomes, totals)
                return False
            positions[str(shard)] = next_position or DONE
            _record(policy, positions, outcomes, totals)
    return True


def _record(policy: Policy, positions: dict[str, str], outcomes: Counter[str], totals: Counter[str]) -> None:
    """One write per page: the position reached and the counts (never per recipient)."""
    totals.update(outcomes)
    policies.record_progress(policy, positions, sent=outcomes["sent"], failed=outcomes["failed"])


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


def _notify_lead(policy: Policy, tenant: Tenant, lead: Lead, limiter: RateLimiter) -> str:
    fresh = leads.get(lead.lead_id)  # the index may be a moment behind an erasure: check the lead itself
    if fresh is None or not _reachable(fresh, policy):
        return "skipped"
    values = leads.open_profile(fresh)
    channel, to = ("email", values["email"]) if values.get("email") else ("sms", values.get("phone"))
    if not to:
        return "skipped"
    # One per policy version and person, placed at the version's effective time: the exactly-once record.
    notice = timeline.new_event_once(
        leads.key_of(fresh), f"evt_{policy.policy_id[4:]}", "notice", placed_at=policy.effective_at,
        at=clock.now(), expires_at=fresh.expires_at,
        info={"kind": "policy", "policy_version": policy.version, "channel": channel},
    )
    if notice is None:
        return "already"
    outcome = _deliver(_policy_message(policy, channel, to, preferences_url(tenant, fresh.lead_id)), limiter)
    if outcome == "retry":
        timeline.withdraw(notice)  # not sent: the next run tries again
    elif outcome == "failed":
        timeline.add_facts(notice, failed=True)
    return outcome


def _policy_message(policy: Policy, channel: str, to: str, prefs: str) -> Message:
    text = (f"Our privacy policy changes (version {policy.version}, in force from "
            f"{policy.effective_at:%d %B %Y}). {policy.summary}\nRead it: {policy.url}")
    return Message(channel=channel, to=to, subject="Our privacy policy is changing", text=text, kind="legal",
                   preferences_url=prefs)


def _dispatch_users(policy: Policy, has_time: HasTime, limiter: RateLimiter, totals: Counter[str]) -> bool:
    outcomes: Counter[str] = Counter()
    retries = 0
    for count, user in enumerate(_users(policy), start=1):
        if not has_time():
            _record(policy, {}, outcomes, totals)
            return False
        try:
            to = envelope.stored_key(user.tenant_id, user.subject_id).unseal("email", user.email_sealed)
        except envelope.SubjectKeyMissing:  # revoked meanwhile: its e-mail is already shredded
            outcomes["skipped"] += 1
            continue
        policies.deliver_to_inbox(user.key_id, user.tenant_id, policy)
        if not policies.claim_notice(policy.policy_id, user.key_id, "email", clock.now() + NOTICE_CLAIM_KEEP):
            outcomes["already"] += 1
        else:
            outcome = _deliver(_policy_message(policy, "email", to, f"{get_settings().public_url}/v1/notifications"),
                               limiter)
            if outcome == "retry":
                policies.release_notice(policy.policy_id, user.key_id, "email")
                retries += 1
            outcomes[outcome] += 1
        if count % PAGE == 0:
            _record(policy, {}, outcomes, totals)
            outcomes = Counter()
    _record(policy, {}, outcomes, totals)
    return retries == 0
