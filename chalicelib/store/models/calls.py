"""Call metadata uploaded by agents' phones: number (sealed), direction, status, duration. Never audio or text."""

from __future__ import annotations

from pynamodb.attributes import BinaryAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, LocalSecondaryIndex

from chalicelib.store.base import LeadVaultModel
from chalicelib.store.ttl import ExpiresAtAttribute


class CallsByTime(LocalSecondaryIndex["CallRecord"]):
    """One agent's calls in the order they happened."""

    class Meta:
        index_name = "by_time"
        projection = AllProjection()

    agent_key = UnicodeAttribute(hash_key=True)
    started_sort = UnicodeAttribute(range_key=True)


class CallsByLead(GlobalSecondaryIndex["CallRecord"]):
    """One lead's calls in the order they happened: the calls on its timeline, in its export and erasure.

    Not sparse (every stored call names its lead), so calls stored before the index existed are
    indexed too. All attributes are projected: an export needs the sealed number, and a call is
    far under 1 KB, so the index entry costs one write unit either way. Like every global index it
    is eventually consistent: erasure deletes what it finds after the lead's key is shredded, so a
    call the index had not caught up with is unreadable already and leaves by TTL.
    """

    class Meta:
        index_name = "by_lead"
        projection = AllProjection()

    lead_id = UnicodeAttribute(hash_key=True)
    started_sort = UnicodeAttribute(range_key=True)


class CallRecord(LeadVaultModel):
    table_suffix = "calls"

    class Meta(LeadVaultModel.Meta):
        pass

    # "<tenant_id>#<agent_id>"
    agent_key = UnicodeAttribute(hash_key=True)
    # The phone's own id for the call: a retried upload writes the same item, never a second one.
    client_event_id = UnicodeAttribute(range_key=True)
    # "<ISO start with microseconds>#<client_event_id>": the call's place in its agent's and its lead's lists.
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
    # The token of the upload that stored it: a resend of that upload counts it (once) if its counters were lost.
    upload = UnicodeAttribute(null=True, attr_name="up")
    expires_at = ExpiresAtAttribute(null=True)

    by_time = CallsByTime()
    by_lead = CallsByLead()
