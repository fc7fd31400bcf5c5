"""Delivery on the event log's stream: one handler for the deployed trigger and for the local poller.

Input is a batch of DynamoDB stream records in Lambda's shape (``Records[].eventName`` and
``dynamodb.NewImage``, the events table's ``NEW_IMAGE``). For each event written (``INSERT``; a
``MODIFY`` is a change rerun writing its event again under the same id, and goes the same way) the
tenant's active subscriptions to its type each get a delivery, stored pending before anything is
sent. Deliveries are keyed by (webhook, event id), so a replayed record finds its delivery: sent
already, or attempted and scheduled, it is left alone (no second send after a success); only a
delivery never attempted is attempted now. That is at-least-once with a stable event id: a
duplicate can only follow a lost answer or a crash mid-attempt, and carries the same id.

Bounded work: each delivery is stored due after a short lease, then attempted once now, within the
per-attempt timeout, unless this invocation is short of time or already found that receiver dead;
those are left to ``retry_webhooks`` when their lease ends. A failed attempt is scheduled with the
backoff of :mod:`chalicelib.services.webhooks.retries`. A record whose deliveries could not be
stored (DynamoDB failing) is reported back by its sequence number, so Lambda (or the local poller)
reads it again (a record without one is skipped: an empty identifier would fail the whole batch);
every other record, and every other tenant's, goes on. Lambda gives up on a record after a bounded
number of retries or hours (deploy/template.py); its event stays in the events table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chalicelib import clock
from chalicelib.errors import LeadVaultError
from chalicelib.logs import get_logger, log_exception
from chalicelib.runtime import time_left
from chalicelib.services.webhooks.catalogue import event_body
from chalicelib.services.webhooks.retries import LEASE, SAFETY_MS, Run, may_attempt, try_delivery
from chalicelib.store import events, webhooks
from chalicelib.store.events import Event
from chalicelib.store.webhooks import Subscription

DELIVERED_ON = frozenset({"INSERT", "MODIFY"})


def deliver_records(records: Sequence[dict[str, Any]], context: Any) -> dict[str, Any]:
    """Deliver the events of a batch of stream records; answer the records to read again (Lambda's
    ``batchItemFailures``) and what was done."""
    run = Run(time_left(context, SAFETY_MS))
    subscribers: dict[str, list[Subscription]] = {}
    failures: list[dict[str, str]] = []
    for record in records:
        sequence = str((record.get("dynamodb") or {}).get("SequenceNumber", ""))
        try:
            _deliver_record(run, record, subscribers)
        except LeadVaultError as error:  # a tenant gone, say: nothing to deliver, ever
            get_logger().warning("webhook_record_skipped", extra={"code": error.code, "sequence": sequence})
            run.totals["skipped"] += 1
        except Exception as exc:  # noqa: BLE001 - this record is read again; the others go on
            log_exception("webhook_record_failed", exc, sequence=sequence)
            if sequence:
                failures.append({"itemIdentifier": sequence})
            else:  # an empty identifier fails the whole batch: a record we cannot name is skipped instead
                run.totals["skipped"] += 1
    get_logger().info("webhook_records", extra={"records": len(records), **run.totals, "retry": len(failures)})
    return {"batchItemFailures": failures}


def _event_of(record: dict[str, Any]) -> Event | None:
    if record.get("eventName") not in DELIVERED_ON:
        return None  # REMOVE: an event expiring
    image = (record.get("dynamodb") or {}).get("NewImage")
    if not image:
        return None
    try:
        event = events.from_stream_image(image)
        readable = all(getattr(event, name, None) for name in ("event_id", "tenant_id", "type", "created_at"))
    except (KeyError, TypeError, ValueError, AttributeError):
        readable = False
    if not readable:  # not an event of ours: never deliverable, so not read again either
        get_logger().warning("webhook_record_unreadable")
        return None
    return event


def _deliver_record(run: Run, record: dict[str, Any], subscribers: dict[str, list[Subscription]]) -> None:
    event = _event_of(record)
    if event is None:
        run.totals["ignored"] += 1
        return
    if event.tenant_id not in subscribers:
        subscribers[event.tenant_id] = [subscription for subscription in webhooks.of_tenant(event.tenant_id)
                                        if subscription.status == "active"]
    # A subscription made after the event is not sent it (a replayed record, a late trigger): it asked for
    # what happens from its creation on.
    told = [subscription for subscription in subscribers[event.tenant_id]
            if event.type in subscription.event_types and subscription.created_at <= event.created_at]
    if not told:
        return
    view = events.view(event)
    body = event_body(event.event_id, event.type, event.created_at, event.tenant_id, view["data"])
    for subscription in told:
        now = clock.now()
        delivery = webhooks.open_delivery(subscription, event_id=event.event_id, event_type=event.type, body=body,
                                          now=now, expires_at=event.expires_at, next_attempt_at=now + LEASE)
        if delivery.status == "delivered" or int(delivery.attempts or 0) > 0:
            run.totals["already"] += 1  # a replayed record: sent, or in the retry schedule's hands
        elif may_attempt(run, subscription):
            try_delivery(run, subscription, delivery)
        else:
            run.totals["left_for_retry"] += 1
