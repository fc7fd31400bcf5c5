"""Webhook subscriptions and their deliveries: one table of their own.

A table apart from every other, because (1) its access patterns are its own (a tenant's few
subscriptions; one subscription's delivery log, newest first, through an index), (2) deliveries
are written at the pace of events and updated per attempt, which must not show up in the stream
of the event log that will feed delivery, and (3) the delivering function gets rights on this
table and none on leads.

Two shapes share ``pk``/``sk``:

- a subscription: ``pk`` is the tenant id, ``sk`` ``whk#<webhook_id>`` (every read is scoped to the
  caller's tenant by its key alone);
- a delivery: ``pk`` is the webhook id, ``sk`` ``evt#<event_id>`` (one item per subscription and
  event, so a repeated event is the same delivery), and on the ``delivery_log`` index
  ``log_pk`` (the webhook id) with ``log_sk`` (``<created time>#<event_id>``) for newest first;
  while a delivery waits for an attempt, also on the ``due`` index: ``due_pk`` (``due#<shard>``, the
  shard from the webhook and event ids) with ``due_sk`` (``<next attempt time>#<webhook_id>#<event_id>``),
  so the retry job reads what is due by a query per shard, never a scan.
"""

from __future__ import annotations

from pynamodb.attributes import BinaryAttribute, ListAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.store.base import LeadVaultModel
from chalicelib.store.ttl import ExpiresAtAttribute

TABLE = "webhooks"


class DeliveryLog(GlobalSecondaryIndex["DeliveryRecord"]):
    """One subscription's deliveries in the order they were made (sparse: subscriptions have no ``log_pk``)."""

    class Meta:
        index_name = "delivery_log"
        projection = AllProjection()

    log_pk = UnicodeAttribute(hash_key=True)
    log_sk = UnicodeAttribute(range_key=True)


class DueDeliveries(GlobalSecondaryIndex["DeliveryRecord"]):
    """Deliveries waiting for an attempt, by due time (sparse: only those with a next attempt)."""

    class Meta:
        index_name = "due"
        projection = AllProjection()

    due_pk = UnicodeAttribute(hash_key=True)
    due_sk = UnicodeAttribute(range_key=True)


class DeliveryRecord(LeadVaultModel):
    """One event for one subscription: its body (ids only) and how its attempts went."""

    table_suffix = TABLE

    class Meta(LeadVaultModel.Meta):
        pass

    pk = UnicodeAttribute(hash_key=True)  # the webhook id
    sk = UnicodeAttribute(range_key=True)  # "evt#<event_id>"
    log_pk = UnicodeAttribute(null=True)
    log_sk = UnicodeAttribute(null=True)
    tenant_id = UnicodeAttribute()
    webhook_id = UnicodeAttribute()
    event_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    # The event exactly as sent (JSON text: ids, types, times, field names; no personal data), so a
    # redelivery sends the same bytes under a fresh signature.
    body = UnicodeAttribute()
    status = UnicodeAttribute()  # pending | delivered | failed
    attempts = NumberAttribute(default=0)
    # The token of the last counted attempt: the SDK's retry of that very write is not another attempt.
    attempt_token = UnicodeAttribute(null=True)
    last_status = NumberAttribute(null=True)  # the receiver's HTTP status
    last_error = UnicodeAttribute(null=True)  # a fixed kind (timeout, redirect, ...), never a message
    last_attempt_at = UTCDateTimeAttribute(null=True)
    next_attempt_at = UTCDateTimeAttribute(null=True)
    # Set while one attempt holds the delivery (its taker's lease), removed when the attempt is recorded:
    # a redelivery takes only a delivery nobody holds.
    leased_until = UTCDateTimeAttribute(null=True)
    lease_token = UnicodeAttribute(null=True)  # whose lease it is: the SDK's retry of a taking is told from a rival's
    # The first 2xx, kept whatever later attempts (a failed redelivery) answer: the event was acknowledged.
    delivered_at = UTCDateTimeAttribute(null=True)
    due_pk = UnicodeAttribute(null=True)  # set with next_attempt_at, removed with it
    due_sk = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    expires_at = ExpiresAtAttribute()

    delivery_log = DeliveryLog()
    due = DueDeliveries()


class SubscriptionRecord(LeadVaultModel):
    """A tenant's webhook: where events go, which ones, and its signing secret sealed under a key of its own."""

    table_suffix = TABLE

    class Meta(LeadVaultModel.Meta):
        pass

    pk = UnicodeAttribute(hash_key=True)  # the tenant id
    sk = UnicodeAttribute(range_key=True)  # "whk#<webhook_id>"
    tenant_id = UnicodeAttribute()
    webhook_id = UnicodeAttribute()
    url = UnicodeAttribute()
    event_types = ListAttribute(of=UnicodeAttribute)
    status = UnicodeAttribute()  # active | disabled
    # The signing secret, sealed under the subscription's own data key (person_keys): deleting the
    # subscription deletes that key, so no copy of the secret (backups included) opens again.
    secret_sealed = BinaryAttribute(legacy_encoding=False)
    secret_version = NumberAttribute(default=1)
    created_at = UTCDateTimeAttribute()
    rotated_at = UTCDateTimeAttribute(null=True)
    failing_since = UTCDateTimeAttribute(null=True)
    created_by_key_id = UnicodeAttribute()
    expires_at = ExpiresAtAttribute(null=True)  # none: a subscription lives until it is deleted
