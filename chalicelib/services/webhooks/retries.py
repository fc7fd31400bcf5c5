"""The retry schedule of webhook deliveries, and what becomes of a subscription that keeps failing.

A failed attempt is tried again after an exponential, jittered delay: 1 minute, doubling, capped at
1 hour, each drawn between 75% and 100% of that (receivers that were down together are not hit
together when they return). A delivery is retried for :data:`RETRY_FOR` (72 hours) from the event,
then left ``failed`` in the log (an admin can still redeliver it). A subscription whose attempts
have failed without a single success for :data:`DISABLE_AFTER` (72 hours, from ``failing_since``) is
disabled, and the tenant's admins get an in-app notice (in the same transaction) and an e-mail; any
success clears ``failing_since``.

``retry_webhooks`` (every minute) reads what is due from the ``due`` index, shard by shard (a query,
never a scan), takes each delivery with a conditional lease before its attempt (two runs never send
one delivery at the same time), and stops starting attempts when its Lambda's time runs short:
whatever is left stays due for the next run. A delivery whose handling raises is logged (ids only)
and the run goes on; one subscription gets at most :data:`MAX_ATTEMPTS_PER_WEBHOOK` failed attempts a run.
A receiver that timed out or could not be reached in a run is not tried again in that run: its other
due deliveries are moved later without an attempt, so one dead receiver costs a run one timeout, not
one per event, and never holds up other tenants.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from chalicelib import clock
from chalicelib.config import get_settings
from chalicelib.logs import get_logger, log_exception
from chalicelib.notify import DeliveryFailed, Message, send
from chalicelib.runtime import HasTime, time_left
from chalicelib.services import audit
from chalicelib.services.tenants import brand
from chalicelib.services.webhooks.deliveries import attempt
from chalicelib.services.webhooks.schedule import (  # noqa: F401 - backoff, RETRY_FOR: the schedule, read here too
    FIRST_DELAY,
    JITTER,
    LEASE,
    MAX_DELAY,
    RETRY_FOR,
    backoff,
    retry_at,
)
from chalicelib.store import policies, tenants, webhooks
from chalicelib.store.webhooks import Delivery, Subscription
from chalicelib.vault import envelope

DISABLE_AFTER = timedelta(hours=72)
# Time kept in hand before starting one more attempt (an attempt takes 7 s at most, plus its writes).
SAFETY_MS = 15_000
PAGE = 25
# Outcomes that mean "the receiver is not there": no further attempt at it in this run.
STALLING = frozenset({"timeout", "connect_failed", "unresolvable", "tls"})
# Failed attempts at one subscription in one run, at most: a failing receiver's backlog never takes a whole
# run from the others, while a healthy one is sent everything the run has time for. What is left over is
# moved a minute later without an attempt (off the head of its shard).
MAX_ATTEMPTS_PER_WEBHOOK = 10
MAX_NOTICES = 90  # admins told in-app in the disabling transaction (100 items at most, with its own writes)
DISABLED = "webhook_disabled"


def _deferral(subscription: Subscription, now: datetime) -> timedelta:
    """How much later a stalled receiver's other deliveries go: as long as it has been failing, 1 min to 1 h."""
    failing = now - subscription.failing_since if subscription.failing_since else FIRST_DELAY
    return min(max(failing, FIRST_DELAY), MAX_DELAY) * random.uniform(*JITTER)


@dataclass
class Run:
    """One invocation's delivering: its clock, the receivers it found dead, the subscriptions it read, what it did."""

    has_time: HasTime
    stalled: set[str] = field(default_factory=set)
    subscriptions: dict[tuple[str, str], Subscription | None] = field(default_factory=dict)
    totals: Counter[str] = field(default_factory=Counter)
    attempted: Counter[str] = field(default_factory=Counter)  # failed attempts per webhook id

    def subscription(self, tenant_id: str, webhook_id: str) -> Subscription | None:
        key = (tenant_id, webhook_id)
        if key not in self.subscriptions:
            self.subscriptions[key] = webhooks.get(tenant_id, webhook_id)
        return self.subscriptions[key]


def may_attempt(run: Run, subscription: Subscription) -> bool:
    """Whether this run starts an attempt at this subscription now (time left, receiver not found dead,
    its share of the run not used up)."""
    return _held_back(run, subscription) is None and run.has_time()


def _held_back(run: Run, subscription: Subscription) -> str | None:
    """Why this run attempts nothing more at this subscription, or None."""
    if subscription.webhook_id in run.stalled:
        return "stalled"
    if run.attempted[subscription.webhook_id] >= MAX_ATTEMPTS_PER_WEBHOOK:
        return "bounded"
    return None


def try_delivery(run: Run, subscription: Subscription, delivery: Delivery) -> bool:
    """One attempt (scheduling the next on failure), then the subscription's failing state; True on a 2xx."""
    outcome = attempt(subscription, delivery, retry_at)
    if outcome.ok:
        run.totals["delivered"] += 1
        webhooks.note_success(subscription)
        return True
    run.totals["failed"] += 1
    run.attempted[subscription.webhook_id] += 1  # failures count against its share of the run
    if outcome.error in STALLING:
        run.stalled.add(subscription.webhook_id)
    now = clock.now()
    webhooks.note_failure(subscription, now)
    failing_long = subscription.failing_since is not None and now - subscription.failing_since >= DISABLE_AFTER
    if failing_long and disable_failing(subscription, now):  # refused when a success came in meanwhile
        run.totals["disabled"] += 1
    return False


def disable_failing(subscription: Subscription, now: datetime) -> bool:
    """Disable the subscription with an in-app notice per admin and its audit record; then e-mail the admins.

    The disabling write is conditional on the subscription being active, so of two runs only one tells anyone.
    """
    admins = [key for key in tenants.live_keys("admin") if key.tenant_id == subscription.tenant_id]
    link = f"{get_settings().public_url}/v1/webhooks/{subscription.webhook_id}/deliveries"
    summary = (f"Webhook {subscription.webhook_id} was disabled: every delivery to it failed for 72 hours. "
               "Its failed deliveries are in its log; fix the receiver, then create the webhook again or "
               "redeliver from the log.")
    notices = [policies.inbox_notice(key.key_id, subscription.tenant_id, ref=subscription.webhook_id, kind=DISABLED,
                                     url=link, summary=summary, at=now) for key in admins[:MAX_NOTICES]]
    entry = audit.build(subscription.tenant_id, audit.OPERATOR, "webhook.disable", subscription.webhook_id)
    if not webhooks.disable(subscription, also=[*notices, entry]):
        return False
    get_logger().warning("webhook_disabled", extra={"tenant_id": subscription.tenant_id,
                                                    "webhook_id": subscription.webhook_id})
    tenant = tenants.get(subscription.tenant_id) if admins else None
    name = brand.display_name(tenant) if tenant is not None else subscription.tenant_id
    for key in admins:
        _email_admin(key, name, summary, link)
    return True


def _email_admin(key: Any, tenant_name: str, summary: str, link: str) -> None:
    """Best effort: the in-app notice is the record; an admin without an e-mail (or a failing backend) is skipped.
    From LeadVault (the configured sender) to the tenant's own staff, naming the tenant."""
    if not key.email_sealed or not key.subject_id:
        return
    try:
        to = envelope.stored_key(key.tenant_id, key.subject_id).unseal("email", key.email_sealed)
        send(Message(channel="email", to=to, subject=f"{tenant_name}: a LeadVault webhook was disabled",
                     text=f"{summary}\n\nIts deliveries: {link}", kind="system"))
    except (envelope.SubjectKeyMissing, DeliveryFailed):
        get_logger().warning("webhook_disabled_email_not_sent", extra={"key_id": key.key_id})


# --- the scheduled function ------------------------------------------------------------------

def retry_webhooks(context: Any) -> dict[str, int]:
    """Attempt every due delivery, shard by shard, page by page, while the Lambda's time allows."""
    run = Run(time_left(context, SAFETY_MS))
    seen: set[tuple[str, str]] = set()
    open_shards = list(range(webhooks.DUE_SHARDS))
    while open_shards and run.has_time():
        for shard in list(open_shards):
            page = [item for item in webhooks.due_page(shard, clock.now(), PAGE)
                    if (item.webhook_id, item.event_id) not in seen]
            if len(page) == 0:  # nothing due, or only what this run met already (the index lags its writes)
                open_shards.remove(shard)
                continue
            for delivery in page:
                if not run.has_time():
                    break
                seen.add((delivery.webhook_id, delivery.event_id))
                try:
                    _retry(run, delivery)
                except Exception as exc:  # noqa: BLE001 - one bad delivery never ends the run for the others
                    # Ids only: no URL, no body. Leased, it is due again when the lease ends.
                    log_exception("webhook_retry_failed", exc, tenant_id=delivery.tenant_id,
                                  webhook_id=delivery.webhook_id, event_id=delivery.event_id)
                    run.totals["errors"] += 1
    return {**run.totals, "unfinished": int(bool(open_shards))}


def _retry(run: Run, delivery: Delivery) -> None:
    subscription = run.subscription(delivery.tenant_id, delivery.webhook_id)
    if subscription is None or subscription.status != "active":
        webhooks.give_up(delivery, "deleted" if subscription is None else "disabled")
        run.totals["given_up"] += 1
        return
    now = clock.now()
    held_back = _held_back(run, subscription)
    if held_back is not None:
        later = now + (_deferral(subscription, now) if held_back == "stalled" else FIRST_DELAY)
        if webhooks.claim(delivery, later, lease=False):
            run.totals["deferred"] += 1
        return
    if not webhooks.claim(delivery, now + LEASE):
        run.totals["taken"] += 1  # another run has it, or it was attempted meanwhile
        return
    try_delivery(run, subscription, delivery)
