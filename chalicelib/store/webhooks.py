"""The webhooks repository: tenants' subscriptions (with their sealed signing secrets) and deliveries.

It owns the key formats (see :mod:`chalicelib.store.models.webhooks`), the subscription's own data key
(minted with the subscription, deleted with it: the secret is shredded), the transactions that keep a
subscription, its key and its audit record together, and the conditional writes of a delivery's
attempts, which come back as ``True``/``False``. Services read :class:`Subscription` and
:class:`Delivery` items and never build one or an update.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from chalicelib import clock
from chalicelib.store.atomic import Refused, delete, update
from chalicelib.store.changes import Changes
from chalicelib.store.conditional import applied
from chalicelib.store.models.person_keys import PersonKeyRecord, key_ref
from chalicelib.store.models.webhooks import DeliveryRecord, SubscriptionRecord
from chalicelib.vault.envelope import SubjectKeyMissing, forget_key, new_subject, stored_key

# What services hold: a subscription and a delivery as read (attributes to read, never to set).
Subscription = SubscriptionRecord
Delivery = DeliveryRecord

SEALED_AS = "signing"  # the sealed field's name (bound into its AAD)
SUBSCRIPTION_PREFIX = "whk#"
DELIVERY_PREFIX = "evt#"
DUE_SHARDS = 8  # the due index's partitions: the retry job queries each

__all__ = ["Delivery", "Subscription"]


# --- keys ------------------------------------------------------------------------------------

def _subscription_sk(webhook_id: str) -> str:
    return SUBSCRIPTION_PREFIX + webhook_id


def _delivery_sk(event_id: str) -> str:
    return DELIVERY_PREFIX + event_id


def _log_sk(created_at: datetime, event_id: str) -> str:
    return f"{clock.sort_stamp(created_at)}#{event_id}"


def _due_pk(webhook_id: str, event_id: str) -> str:
    digest = hashlib.sha256(f"{webhook_id}#{event_id}".encode()).digest()
    return f"due#{digest[0] % DUE_SHARDS}"


def _due_sk(at: datetime, webhook_id: str, event_id: str) -> str:
    return f"{clock.sort_stamp(at)}#{webhook_id}#{event_id}"


def _due_actions(webhook_id: str, event_id: str, at: datetime | None) -> list[Any]:
    """Put the delivery on the due index at ``at``, or take it off (None)."""
    if at is None:
        return [DeliveryRecord.next_attempt_at.remove(), DeliveryRecord.due_pk.remove(), DeliveryRecord.due_sk.remove()]
    return [DeliveryRecord.next_attempt_at.set(at), DeliveryRecord.due_pk.set(_due_pk(webhook_id, event_id)),
            DeliveryRecord.due_sk.set(_due_sk(at, webhook_id, event_id))]


# --- subscriptions ---------------------------------------------------------------------------

def get(tenant_id: str, webhook_id: str) -> Subscription | None:
    """The tenant's subscription (strongly consistent); None when there is none in this tenant."""
    try:
        return SubscriptionRecord.get(tenant_id, _subscription_sk(webhook_id), consistent_read=True)
    except SubscriptionRecord.DoesNotExist:
        return None


def of_tenant(tenant_id: str) -> list[Subscription]:
    """Every subscription of the tenant, oldest first (a tenant has a handful)."""
    found = SubscriptionRecord.query(tenant_id, SubscriptionRecord.sk.startswith(SUBSCRIPTION_PREFIX),
                                     consistent_read=True)
    return sorted(found, key=lambda item: (item.created_at, item.webhook_id))


def create(tenant_id: str, webhook_id: str, *, url: str, event_types: Sequence[str], secret: str,
           created_by_key_id: str, now: datetime, also: Sequence[Any] = ()) -> Subscription:
    """Store a subscription, its own data key and ``also`` (its audit record) in one transaction."""
    minted = new_subject(tenant_id, save=False, subject_id=webhook_id)
    subscription = SubscriptionRecord(
        tenant_id, _subscription_sk(webhook_id),
        tenant_id=tenant_id,
        webhook_id=webhook_id,
        url=url,
        event_types=list(event_types),
        status="active",
        secret_sealed=minted.key.seal(SEALED_AS, secret),
        secret_version=1,
        created_at=now,
        created_by_key_id=created_by_key_id,
    )
    Changes().put(subscription, minted.record, *also).commit_atomically()
    return subscription


def secret_of(subscription: Subscription) -> str | None:
    """The signing secret, opened; None once the subscription's key is gone (deleted meanwhile)."""
    try:
        key = stored_key(subscription.tenant_id, subscription.webhook_id)
        return key.unseal(SEALED_AS, subscription.secret_sealed)
    except SubjectKeyMissing:
        return None


def rotate(subscription: Subscription, secret: str, now: datetime, also: Sequence[Any] = ()) -> bool:
    """Replace the secret (the old one stops at once) with ``also`` in one transaction.

    False when the subscription was deleted or rotated meanwhile. The transaction's token makes the
    SDK's retry of a lost answer apply once.
    """
    version = int(subscription.secret_version or 1)
    sealed = stored_key(subscription.tenant_id, subscription.webhook_id).seal(SEALED_AS, secret)
    write = update(subscription, [SubscriptionRecord.secret_sealed.set(sealed),
                                  SubscriptionRecord.secret_version.set(version + 1),
                                  SubscriptionRecord.rotated_at.set(now)],
                   condition=SubscriptionRecord.secret_version == version, label="subscription")
    try:
        Changes().guard(write).put(*also).commit_atomically()
    except Refused:
        return False
    subscription.secret_sealed, subscription.secret_version, subscription.rotated_at = sealed, version + 1, now
    return True


def remove(subscription: Subscription, also: Sequence[Any] = ()) -> bool:
    """Delete the subscription and its data key (shredding the secret) with ``also``, in one transaction.

    False when it was already gone. Its deliveries stay until they expire with the audit trail.
    """
    key = PersonKeyRecord(key_ref(subscription.tenant_id, subscription.webhook_id))
    gone = delete(subscription, condition=SubscriptionRecord.sk.exists(), label="subscription")
    try:
        Changes().guard(gone).delete(key).put(*also).commit_atomically()
    except Refused:
        return False
    forget_key(subscription.tenant_id, subscription.webhook_id)
    return True


# --- deliveries ------------------------------------------------------------------------------

def get_delivery(webhook_id: str, event_id: str) -> Delivery | None:
    try:
        return DeliveryRecord.get(webhook_id, _delivery_sk(event_id), consistent_read=True)
    except DeliveryRecord.DoesNotExist:
        return None


def open_delivery(subscription: Subscription, *, event_id: str, event_type: str, body: str, now: datetime,
                  expires_at: datetime, next_attempt_at: datetime | None = None) -> Delivery:
    """The delivery of one event to one subscription: stored pending, or the one already stored for that event.

    ``next_attempt_at`` is the opener's lease on its first attempt: due then, should the opener die.
    """
    delivery = DeliveryRecord(
        subscription.webhook_id, _delivery_sk(event_id),
        log_pk=subscription.webhook_id,
        log_sk=_log_sk(now, event_id),
        tenant_id=subscription.tenant_id,
        webhook_id=subscription.webhook_id,
        event_id=event_id,
        event_type=event_type,
        body=body,
        status="pending",
        attempts=0,
        created_at=now,
        next_attempt_at=next_attempt_at,
        leased_until=next_attempt_at,  # the opener's lease for its first attempt
        due_pk=_due_pk(subscription.webhook_id, event_id) if next_attempt_at else None,
        due_sk=_due_sk(next_attempt_at, subscription.webhook_id, event_id) if next_attempt_at else None,
        expires_at=expires_at,
    )
    if applied(delivery.save, condition=DeliveryRecord.sk.does_not_exist()):
        return delivery
    existing = get_delivery(subscription.webhook_id, event_id)
    if existing is None:  # refused, then gone (expired) before the read: keep ours
        delivery.save()
        return delivery
    return existing


def record_attempt(delivery: Delivery, *, ok: bool, http_status: int | None, error: str | None, at: datetime,
                   next_attempt_at: datetime | None = None) -> None:
    """Count one attempt and its outcome. The attempt's token makes the SDK's retry of it count once."""
    token = secrets.token_hex(8)
    actions = [
        DeliveryRecord.attempts.add(1),
        DeliveryRecord.attempt_token.set(token),
        DeliveryRecord.status.set("delivered" if ok else "failed"),
        DeliveryRecord.last_attempt_at.set(at),
        DeliveryRecord.last_status.set(http_status) if http_status is not None else DeliveryRecord.last_status.remove(),
        DeliveryRecord.last_error.set(error) if error else DeliveryRecord.last_error.remove(),
        DeliveryRecord.leased_until.remove(),
        DeliveryRecord.lease_token.remove(),
        *([DeliveryRecord.delivered_at.set(DeliveryRecord.delivered_at | at)] if ok else []),  # the first 2xx stays
        *_due_actions(delivery.webhook_id, delivery.event_id, next_attempt_at),
    ]

    def mine() -> bool:
        # Refused only when the stored token is this very one: our own write, retried by the SDK.
        stored = get_delivery(delivery.webhook_id, delivery.event_id)
        if stored is not None:
            delivery.attribute_values = stored.attribute_values
        return True

    # ``update`` takes the item as written back (ALL_NEW), so the caller holds the counted attempt.
    applied(delivery.update, mine=mine, actions=actions,
            condition=DeliveryRecord.attempt_token.does_not_exist() | (DeliveryRecord.attempt_token != token))


def log_page(webhook_id: str, limit: int, after: str | None = None) -> tuple[list[Delivery], str | None]:
    """One page of a subscription's deliveries, newest first, and the position to resume after (None: the end)."""
    found = DeliveryRecord.delivery_log.query(webhook_id, scan_index_forward=False, limit=limit,
                                              last_evaluated_key=_index_key(webhook_id, after) if after else None)
    items = list(found)
    position = found.last_evaluated_key
    return items, (position or {}).get("log_sk", {}).get("S") if position else None


def _index_key(webhook_id: str, log_sk: str) -> dict[str, Any]:
    """The index position to resume after, rebuilt from the webhook id and the sort position alone."""
    event_id = log_sk.rpartition("#")[2]
    return {"log_pk": {"S": webhook_id}, "log_sk": {"S": log_sk},
            "pk": {"S": webhook_id}, "sk": {"S": _delivery_sk(event_id)}}


# --- retries ---------------------------------------------------------------------------------

def due_page(shard: int, now: datetime, limit: int) -> list[Delivery]:
    """Up to ``limit`` deliveries of one due shard whose next attempt is at ``now`` or before, oldest due first.

    The index is eventually consistent: :func:`claim` decides, on the item itself, whether one is still due.
    """
    upto = f"{clock.sort_stamp(now)}#~"
    return list(DeliveryRecord.due.query(f"due#{shard}", DeliveryRecord.due_sk <= upto, limit=limit))


def claim(delivery: Delivery, until: datetime, lease: bool = True) -> bool:
    """Take a due delivery for one attempt: its next attempt moves to ``until`` (a lease), if nobody moved it.

    False when another run took it, it was attempted or given up meanwhile. A later attempt's record
    replaces the lease; a run that dies holding one leaves the delivery due again at ``until``. With
    ``lease`` False it is only moved later (no attempt now).
    """
    seen = delivery.next_attempt_at
    if seen is None:
        return False
    actions = [*_due_actions(delivery.webhook_id, delivery.event_id, until),
               DeliveryRecord.leased_until.set(until) if lease else DeliveryRecord.leased_until.remove()]
    return _take(delivery, until, actions, DeliveryRecord.next_attempt_at == seen)


def lease(delivery: Delivery, now: datetime, until: datetime) -> bool:
    """Take a delivery for an attempt out of schedule (a redelivery): False while another attempt holds it.

    Conditional on the schedule as read and on no live lease, so it never runs beside the retry job's
    or the stream's attempt; it stays off the due index only for as long as the lease, should its taker die.
    """
    seen = delivery.next_attempt_at
    unchanged = DeliveryRecord.next_attempt_at == seen if seen else DeliveryRecord.next_attempt_at.does_not_exist()
    free = DeliveryRecord.leased_until.does_not_exist() | (DeliveryRecord.leased_until <= now)
    actions = [*_due_actions(delivery.webhook_id, delivery.event_id, until), DeliveryRecord.leased_until.set(until)]
    return _take(delivery, until, actions, DeliveryRecord.sk.exists() & unchanged & free)


def _take(delivery: Delivery, until: datetime, actions: list[Any], condition: Any) -> bool:
    token = secrets.token_hex(8)

    def mine() -> bool:
        stored = get_delivery(delivery.webhook_id, delivery.event_id)
        return stored is not None and stored.lease_token == token

    taken = applied(delivery.update, mine=mine, actions=[*actions, DeliveryRecord.lease_token.set(token)],
                    condition=condition)
    if taken:
        delivery.next_attempt_at = until
    return taken


def give_up(delivery: Delivery, error: str) -> None:
    """No more attempts (its subscription disabled or deleted): failed, off the due index."""
    applied(delivery.update, actions=[DeliveryRecord.status.set("failed"), DeliveryRecord.last_error.set(error),
                                      DeliveryRecord.leased_until.remove(),
                                      *_due_actions(delivery.webhook_id, delivery.event_id, None)],
            condition=DeliveryRecord.status != "delivered")


def deliveries_of(webhook_id: str, event_ids: Sequence[str]) -> list[Delivery]:
    """This subscription's deliveries of these events (those that exist), in one batch read per 100."""
    keys = [(webhook_id, _delivery_sk(event_id)) for event_id in dict.fromkeys(event_ids)]
    found: list[Delivery] = []
    for first in range(0, len(keys), 100):
        found.extend(DeliveryRecord.batch_get(keys[first:first + 100]))
    return found


def note_failure(subscription: Subscription, at: datetime) -> None:
    """Mark the subscription failing since ``at``, unless it already is (its first failure in a row counts)."""
    if subscription.failing_since is not None:
        return
    if applied(subscription.update, actions=[SubscriptionRecord.failing_since.set(at)],
               condition=SubscriptionRecord.sk.exists() & SubscriptionRecord.failing_since.does_not_exist()):
        subscription.failing_since = at


def note_success(subscription: Subscription) -> None:
    """A 2xx: the subscription is no longer failing.

    Conditional on the stored item, not on this invocation's copy: another invocation may have marked it
    failing since the copy was read, and a success anywhere must stop a disable. Refused: nothing to clear.
    """
    applied(subscription.update, actions=[SubscriptionRecord.failing_since.remove()],
            condition=SubscriptionRecord.sk.exists() & SubscriptionRecord.failing_since.exists())
    subscription.failing_since = None


def disable(subscription: Subscription, also: Sequence[Any] = ()) -> bool:
    """Disable an active subscription with ``also`` (its notices, its audit record) in one transaction.

    False when it is not active any more (disabled by another run, deleted), or no longer failing since the
    time read (a success in another invocation cleared it, or it failed anew): then nothing is written,
    so the notices go out once and never after a success.
    """
    since = subscription.failing_since
    if since is None:
        return False
    write = update(subscription, [SubscriptionRecord.status.set("disabled")],
                   condition=(SubscriptionRecord.status == "active") & (SubscriptionRecord.failing_since == since),
                   label="subscription")
    try:
        Changes().guard(write).put(*also).commit_atomically()
    except Refused:
        return False
    subscription.status = "disabled"
    return True
