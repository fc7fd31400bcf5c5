"""Deliveries: one attempt at one event for one subscription, the test event, a redelivery, the log.

A delivery is stored pending before its first attempt, with the event's body (ids only), and counts
each attempt with its outcome. :func:`attempt` is the one code path that sends: the admin routes here
and, later, the event log's delivery. The subscription's URL is checked again at every attempt, and
an attempt holds its caller at most a few seconds (:mod:`chalicelib.notify.webhooks`); it never runs
on a request made by or for a person, only on an admin's own test or redelivery.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from chalicelib import clock
from chalicelib.errors import NotFound, ValidationFailed
from chalicelib.logs import get_logger
from chalicelib.notify.webhooks import Outcome, deliver
from chalicelib.services import audit
from chalicelib.services.access.auth import Caller
from chalicelib.services.pagination import decode_cursor, encode_cursor
from chalicelib.services.tenants.tenancy import expiry, require_tenant
from chalicelib.services.webhooks.catalogue import TEST, event_body, new_event_id
from chalicelib.services.webhooks.schedule import LEASE, retry_at
from chalicelib.services.webhooks.subscriptions import require_subscription
from chalicelib.store import webhooks
from chalicelib.store.webhooks import Delivery, Subscription

EVENT_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
CURSOR_KIND = "webhook_deliveries"
POSITION = re.compile(r"^[0-9T:.Z-]{27}#[A-Za-z0-9_.:-]{1,128}$")  # "<sort stamp>#<event id>"


def delivery_view(delivery: Delivery) -> dict[str, Any]:
    def when(moment: Any) -> str | None:
        return clock.iso(moment) if moment else None

    return {
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "status": delivery.status,
        "attempts": int(delivery.attempts or 0),
        "last_status": int(delivery.last_status) if delivery.last_status is not None else None,
        "last_error": delivery.last_error,
        "last_attempt_at": when(delivery.last_attempt_at),
        "next_attempt_at": when(delivery.next_attempt_at),
        "created_at": clock.iso(delivery.created_at),
    }


def attempt(subscription: Subscription, delivery: Delivery,
            retry_at: Callable[[Delivery, datetime], datetime | None] | None = None) -> Outcome:
    """Send the delivery's event, signed with the subscription's current secret, and record the outcome.

    ``retry_at`` (the retry schedule's, given the delivery before this attempt is counted) sets when a
    failed attempt is tried again; without it, or when it answers None, no further attempt is scheduled.
    """
    secret = webhooks.secret_of(subscription)
    if secret is None:  # deleted meanwhile: its key is shredded
        outcome = Outcome(False, error="no_secret")
    else:
        outcome = deliver(subscription.url, secret, delivery.event_id, delivery.event_type, delivery.body)
    now = clock.now()
    again = retry_at(delivery, now) if retry_at is not None and not outcome.ok and secret is not None else None
    webhooks.record_attempt(delivery, ok=outcome.ok, http_status=outcome.status, error=outcome.error,
                            at=now, next_attempt_at=again)
    get_logger().info("webhook_attempt", extra={
        "tenant_id": subscription.tenant_id, "webhook_id": subscription.webhook_id, "event_id": delivery.event_id,
        "ok": outcome.ok, "status": outcome.status, "error": outcome.error})
    return outcome


def send_test(caller: Caller, webhook_id: str) -> dict[str, Any]:
    """Send a signed ``webhook.test`` event now and answer how the receiver took it."""
    subscription = require_subscription(caller, webhook_id)
    tenant = require_tenant(caller.tenant_id)
    now = clock.now()
    event_id = new_event_id()
    body = event_body(event_id, TEST, now, tenant.tenant_id, {"webhook_id": webhook_id})
    delivery = webhooks.open_delivery(subscription, event_id=event_id, event_type=TEST, body=body, now=now,
                                      expires_at=expiry(tenant, "audit", now))
    audit.record(tenant, caller.key_id, "webhook.test", webhook_id)
    attempt(subscription, delivery)
    return delivery_view(delivery)


def redeliver(caller: Caller, webhook_id: str, event_id: str) -> dict[str, Any]:
    """Send a recorded delivery's event again now (the same body, a fresh signature).

    It takes the delivery's lease first, so it never sends beside the retry job or the stream; while
    another attempt holds it, nothing is sent and the delivery is answered as it stands. A failure is
    handed to the retry schedule while the event's 72 hours last (a redelivery while the receiver is
    down does not end the retries), and a delivery acknowledged once stays acknowledged (``delivered_at``).
    """
    subscription = require_subscription(caller, webhook_id)
    delivery = webhooks.get_delivery(webhook_id, event_id) if EVENT_ID.match(event_id or "") else None
    if delivery is None or delivery.tenant_id != caller.tenant_id:
        raise NotFound("No such delivery.")
    audit.record(caller.tenant_id, caller.key_id, "webhook.redeliver", webhook_id)
    now = clock.now()
    if webhooks.lease(delivery, now, now + LEASE):
        attempt(subscription, delivery, retry_at)
    else:  # an attempt is under way: it is that attempt's outcome the log will show
        delivery = webhooks.get_delivery(webhook_id, event_id) or delivery
    return delivery_view(delivery)


def delivery_log(caller: Caller, webhook_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    """One page of the subscription's deliveries, newest first."""
    require_subscription(caller, webhook_id)
    after = decode_cursor(cursor, CURSOR_KIND)
    if after is not None and not (isinstance(after, str) and POSITION.match(after)):
        raise ValidationFailed(details=[{"field": "cursor", "problem": "not a cursor this list gave out"}])
    items, position = webhooks.log_page(webhook_id, limit, after)
    return {"items": [delivery_view(item) for item in items],
            "next_cursor": encode_cursor(CURSOR_KIND, position) if position else None}
