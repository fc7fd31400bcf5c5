"""``dispatch_notifications`` (every 5 minutes): each recipient told exactly once per policy version.

The ledger. Every recipient has one record per version (a ``notice`` event on a lead's timeline,
which erasure deletes with the rest of it; a notice claim for a user key), and goes through it:
- claim: a conditional put (no record, or a claim whose lease ran out) carrying a write token; a
  refusal caused by the SDK retrying our own applied put is read back by that token as ours;
- send, with the record's notice id as the message's reference (the e-mail's Message-ID, the
  SMS's client reference); a send that fails for now releases the claim (only if still ours);
- settle ``sent``/``failed`` (or ``skipped``: no contact left, a user's key gone) together with the
  version's counter in one transaction, conditional on the token: each counts once, whatever the
  SDK retries (the transaction's ClientRequestToken applies a retried call once; a refusal reads back).
A dispatcher that dies holding a claim leaves it to the next run once its lease (``NOTICE_LEASE``,
far longer than one delivery's tries) has run out, and never to anyone before.

The remaining window: a message can go twice if the dispatcher is killed after the backend accepted
it and before it is settled (its claim is resumed after the lease), or if the backend accepted it but
its answer was lost (a timeout reads as a transient failure: the claim is released, a later run sends
again). That second message carries the same reference, so it is recognisable downstream: the same
Message-ID over SMTP (and in the outbox); over SES, which replaces Message-ID with its own, the
``X-LeadVault-Reference`` header; an SMS's ``LeadVault.Reference`` attribute (SNS keeps it with the
publication; a phone never shows it, and carriers do not deduplicate by it).

Walking the audience. A tenant's leads are walked by list shard in list order, which is their
expiry: a lead contacted moves later (it is met again, which the ledger makes free), but a hold
released or a retention shortened moves it earlier, maybe behind the position a run saved. So the
end of a walk does not end a version: another pass follows any pass that met someone unsettled,
and a version is finished only by a pass that met nobody (a lead that moved during the first pass
is met by the second). Each pass says so before it settles anyone (``mark_dirty``, conditional on
the pass and on the version not being finished), so two dispatchers can never finish a pass the
other is still settling. Whoever was never met (erased and deleted since publication) is then
settled as skipped with the ``done`` mark, in one conditional write: the status always settles.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from chalicelib import clock
from chalicelib.config import get_settings
from chalicelib.notify import DeliveryFailed, Message, send
from chalicelib.runtime import HasTime, time_left
from chalicelib.services.rights.preferences import preferences_url
from chalicelib.services.tenants.tenancy import Tenant, require_tenant
from chalicelib.store import leads, policies, tenants
from chalicelib.store.leads import Lead
from chalicelib.store.policies import NoticeClaim, Policy, Recipient, Walk
from chalicelib.store.tenants import ApiKey
from chalicelib.vault import envelope

# Time kept in hand: one delivery may take its tries with backoff (SMTP times out after 10 s).
SAFETY_MS = 35_000
PAGE = 25
TRANSIENT_TRIES = 3
DONE = "done"  # the position of an audience shard walked to its end in this pass
IN_APP = "in_app"  # the channel users' notices count under: their inbox, with an e-mail copy
USERS = "users"  # the one "shard" of a platform version's audience, walked whole in each run
# How long a claim is held: far beyond one delivery's worst case (3 tries of 10 s and backoff, then the
# settling write with its retries), so a slow dispatcher never has its claim resumed while it sends.
NOTICE_LEASE = timedelta(minutes=10)
# A user's notice record outlives any dispatch of its version by far, then TTL removes it.
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
    return sum(audience_by_channel(policy).values())


def audience_by_channel(policy: Policy) -> dict[str, int]:
    """The audience by the channel each is expected to be told on (reads it once, at publication): users in
    their in-app inbox (with an e-mail copy), leads by e-mail when they have one, else by SMS."""
    if policy.scope == "platform":
        return {"in_app": sum(1 for _ in _users(policy))}
    counts = {"email": 0, "sms": 0}
    for lead in leads.all_of_scope(policy.scope_key):
        if _reachable(lead, policy):
            counts["email" if lead.email_ref else "sms"] += 1
    return counts


@dataclass
class Run:
    """One run of the dispatcher: its clock, its sending pace, what it did."""

    has_time: HasTime
    limiter: RateLimiter
    totals: Counter[str] = field(default_factory=Counter)
    busy: bool = False  # met a live claim of someone else's (a dispatcher at work, or one dead not long ago)


def dispatch_notifications(context: Any) -> dict[str, int]:
    run = Run(time_left(context, SAFETY_MS), RateLimiter(get_settings().send_rate))
    unfinished = 0
    for listed in policies.undispatched():
        policy = policies.get(listed.policy_id)  # the scan may be behind another dispatcher's progress
        if policy is None or policy.done:
            continue
        if not _dispatch(policy, run):
            unfinished = 1
            if not run.has_time():
                break
    return {**run.totals, "unfinished": unfinished}


def _dispatch(policy: Policy, run: Run) -> bool:
    """Walk the version's audience pass after pass until one meets nobody unsettled; True once finished."""
    tenant = require_tenant(policy.scope_key) if policy.scope != "platform" else None
    walk = policies.walk_of(policy)
    run.busy = False
    while True:
        if not _walk(policy, tenant, walk, run):
            return False
        if not walk.dirty:
            return policies.finish(policy.policy_id, walk)
        following = policies.next_walk(policy.policy_id, walk)
        if following is None:
            return True  # another dispatcher finished it
        walk = following
        if run.busy:
            return False  # someone else's claim is open: a later run walks again, once it settled or expired


def _walk(policy: Policy, tenant: Tenant | None, walk: Walk, run: Run) -> bool:
    """One pass (or the rest of it); False when this run must stop (time, a failing backend, a newer pass)."""
    shards = [USERS] if tenant is None else [str(shard) for shard in range(leads.LIST_SHARDS)]
    for shard in shards:
        while walk.positions.get(shard) != DONE:
            if not run.has_time():
                return False
            if tenant is None:
                if not _users_page(policy, list(_users(policy)), walk, run):
                    return False
                next_position = None
            else:
                page, next_position = leads.page_from(policy.scope_key, int(shard), PAGE, walk.positions.get(shard))
                if not _leads_page(policy, tenant, page, walk, run):
                    return False
            walk.positions[shard] = next_position or DONE
            if not policies.save_positions(policy.policy_id, walk):
                return False
    return True


def _unsettled(policy: Policy, kind: str, ids: list[str], walk: Walk, run: Run) -> set[str] | None:
    """Which of these recipients are for this run to settle (none settled, no live claim); None to stop.

    Before any, the pass is marked as having met someone unsettled, so it cannot be the last."""
    states = policies.notice_states(policy, kind, ids)
    open_claims = [i for i in ids if states.get(i) == policies.CLAIMED]
    todo = {i for i in ids if states.get(i) not in policies.SETTLED and i not in open_claims}
    if (todo or open_claims) and not walk.dirty:
        if not policies.mark_dirty(policy.policy_id, walk):
            return None
        walk.dirty = True
    if open_claims:
        run.busy = True
        run.totals["busy"] += len(open_claims)
    return todo


def _leads_page(policy: Policy, tenant: Tenant, page: list[Lead], walk: Walk, run: Run) -> bool:
    candidates = {lead.lead_id: lead for lead in page if _reachable(lead, policy)}
    return _settle_page(policy, policies.LEAD, candidates,
                        lambda lead: _notify_lead(policy, tenant, lead, run.limiter), walk, run)


def _users_page(policy: Policy, users: list[ApiKey], walk: Walk, run: Run) -> bool:
    return _settle_page(policy, policies.USER, {user.key_id: user for user in users},
                        lambda user: _notify_user(policy, user, run.limiter), walk, run)


def _settle_page(policy: Policy, kind: str, recipients: dict[str, Any], notify: Callable[[Any], str], walk: Walk,
                 run: Run) -> bool:
    """Notify the page's recipients not settled yet; False when the run must stop here (time, a failing backend)."""
    todo = _unsettled(policy, kind, list(recipients), walk, run)
    if todo is None:
        return False
    for recipient_id, recipient in recipients.items():
        if recipient_id in todo:
            if not run.has_time():
                return False
            outcome = notify(recipient)
            run.totals[outcome] += 1
            if outcome == "retry":
                return False  # the backend is failing for now: this page again next run
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


def _claim_and_send(policy: Policy, recipient: Recipient, channel: str, message_for: Callable[[str], Message],
                    limiter: RateLimiter) -> str:
    claim = policies.claim_notice(policy, recipient, channel, NOTICE_LEASE)
    if not isinstance(claim, NoticeClaim):
        return claim  # already settled, or someone else's live claim
    outcome = _deliver(message_for(claim.notice_id), limiter)
    if outcome == "retry":
        policies.release_notice(claim)  # not sent: the next run tries again
        return outcome
    # Not ours any more: our lease ran out mid-send and another dispatcher resumed it (and settles it).
    return outcome if policies.settle_notice(claim, outcome) else "taken_over"


def _notify_lead(policy: Policy, tenant: Tenant, lead: Lead, limiter: RateLimiter) -> str:
    fresh = leads.get(lead.lead_id)  # the index may be a moment behind an erasure: check the lead itself
    if fresh is None or not _reachable(fresh, policy):
        return "gone"  # nothing written on an erased person's timeline; settled when the version finishes
    recipient = Recipient(policies.LEAD, fresh.lead_id, fresh.tenant_id, fresh.expires_at)
    values = leads.open_profile(fresh)
    channel, to = ("email", values["email"]) if values.get("email") else ("sms", values.get("phone"))
    if not to:
        return "skipped" if policies.skip_notice(policy, recipient) else "already"
    prefs = preferences_url(tenant, fresh.lead_id)
    return _claim_and_send(policy, recipient, channel,
                           lambda reference: _policy_message(policy, channel, to, prefs, reference, tenant), limiter)


def _notify_user(policy: Policy, user: ApiKey, limiter: RateLimiter) -> str:
    recipient = Recipient(policies.USER, user.key_id, user.tenant_id, clock.now() + NOTICE_CLAIM_KEEP)
    try:
        to = envelope.stored_key(user.tenant_id, user.subject_id).unseal("email", user.email_sealed)
    except envelope.SubjectKeyMissing:  # revoked meanwhile: its e-mail is already shredded
        return "skipped" if policies.skip_notice(policy, recipient, IN_APP) else "already"
    policies.deliver_to_inbox(user.key_id, user.tenant_id, policy)
    inbox = f"{get_settings().public_url}/v1/notifications"
    # Counted as in-app (the inbox entry); the e-mail is its copy.
    return _claim_and_send(policy, recipient, IN_APP,
                           lambda reference: _policy_message(policy, "email", to, inbox, reference), limiter)


def _policy_message(policy: Policy, channel: str, to: str, prefs: str, reference: str,
                    tenant: Tenant | None = None) -> Message:
    """From the tenant (its version, to its leads), or from LeadVault itself (a platform version, to staff)."""
    from chalicelib.services.tenants import brand

    text = (f"Our privacy policy changes (version {policy.version}, in force from "
            f"{policy.effective_at:%d %B %Y}). {policy.summary}\nRead it: {policy.url}")
    if tenant is not None:
        return brand.message(tenant, channel=channel, to=to, words="our privacy policy is changing", text=text,
                             kind="legal", preferences_url=prefs, reference=reference, rights=True)
    return Message(channel=channel, to=to, subject="LeadVault: our privacy policy is changing", text=text,
                   kind="legal", preferences_url=prefs, reference=reference)
