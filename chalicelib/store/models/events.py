"""The event log: one item per change a tenant's other systems care about, written with the change.

The table's stream (``NEW_IMAGE``) is what delivery reads, so nothing but events is written here:
delivery's own bookkeeping lives in the webhooks table and never shows up on this stream.
"""

from __future__ import annotations

from pynamodb.attributes import MapAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.constants import STREAM_NEW_IMAGE
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.store.base import LeadVaultModel
from chalicelib.store.ttl import ExpiresAtAttribute


class EventsByTenant(GlobalSecondaryIndex["EventRecord"]):
    """A tenant's events in the order they happened (a "recent events" list)."""

    class Meta:
        index_name = "by_tenant"
        projection = AllProjection()

    tenant_id = UnicodeAttribute(hash_key=True)
    created_sort = UnicodeAttribute(range_key=True)


class EventRecord(LeadVaultModel):
    table_suffix = "events"

    class Meta(LeadVaultModel.Meta):
        # PynamoDB enables the stream when it creates the table (DynamoDB Local); deploy/tables.py
        # gives the deployed table the same stream.
        stream_view_type = STREAM_NEW_IMAGE

    event_id = UnicodeAttribute(hash_key=True)  # "evt_<hex>": the id receivers de-duplicate by
    tenant_id = UnicodeAttribute()
    type = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    created_sort = UnicodeAttribute()  # "<ISO time with microseconds>#<event id>"
    # Ids and changed field names only, never a value of a person (see store/events.py).
    data = MapAttribute(default=dict)
    expires_at = ExpiresAtAttribute()

    by_tenant = EventsByTenant()
