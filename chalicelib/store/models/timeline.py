"""A person's events, newest first: submissions, calls, consents (the ledger), stage changes, notices.

The consent ledger is the ``consent`` items of this table: append-only, one item per change.
"""

from __future__ import annotations

from pynamodb.attributes import BinaryAttribute, MapAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.store.base import LeadVaultModel
from chalicelib.store.ttl import ExpiresAtAttribute


class TimelineRecord(LeadVaultModel):
    table_suffix = "timeline"

    class Meta(LeadVaultModel.Meta):
        pass

    # "<lead_id>" for a lead's events; "visitor#<tenant_id>#<blind index>" for consents without a lead.
    owner = UnicodeAttribute(hash_key=True)
    # "<ISO time with microseconds>#<event id>"
    sort_key = UnicodeAttribute(range_key=True)
    event_id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    type = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    actor_key_id = UnicodeAttribute(null=True)
    # Non-personal facts about the event (field names, purposes, stages, source, IP prefix).
    info = MapAttribute(default=dict)
    # Personal values of the event, sealed under the owner's key.
    sealed = BinaryAttribute(legacy_encoding=False, null=True)
    expires_at = ExpiresAtAttribute(null=True)
    # A policy notice's place in the ledger (store/policies.py): claimed, then sent, failed or skipped.
    # ``write_token`` is its writer's, read back to tell its own retried write from another's;
    # ``lease_until`` is how long a claim is held before another dispatcher may resume it.
    state = UnicodeAttribute(null=True)
    write_token = UnicodeAttribute(null=True)
    lease_until = UTCDateTimeAttribute(null=True)
