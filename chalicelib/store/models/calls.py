"""Call metadata uploaded by agents' phones: number (sealed), direction, status, duration. Never audio or text."""

from __future__ import annotations

from pynamodb.attributes import BinaryAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, LocalSecondaryIndex

from chalicelib.store.base import LeadVaultModel
from chalicelib.store.ttl import ExpiresAtAttribute


class CallsByTime(LocalSecondaryIndex["CallRecord"]):
    """One agent's calls in the order they happened."""

    class Meta:
        index_name = "by_time"
        projection = AllProjection()

    agent_key = UnicodeAttribute(hash_key=True)
    started_sort = UnicodeAttribute(range_key=True)


class CallRecord(LeadVaultModel):
    table_suffix = "calls"

    class Meta(LeadVaultModel.Meta):
        pass

    # "<tenant_id>#<agent_id>"
    agent_key = UnicodeAttribute(hash_key=True)
    # The phone's own id for the call: a retried upload writes the same item, never a second one.
    client_event_id = UnicodeAttribute(range_key=True)
    started_sort = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    agent_id = UnicodeAttribute()
    lead_id = UnicodeAttribute()
    # The other party's number, sealed under the lead's key.
    number_sealed = BinaryAttribute(legacy_encoding=False)
    direction = UnicodeAttribute()
    status = UnicodeAttribute()
    started_at = UTCDateTimeAttribute()
    duration_s = NumberAttribute()
    stored_at = UTCDateTimeAttribute()
    expires_at = ExpiresAtAttribute(null=True)

    by_time = CallsByTime()
