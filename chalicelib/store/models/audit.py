"""The audit log: who did what to which object, when. Never personal data."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.store.base import LeadVaultModel
from chalicelib.store.ttl import ExpiresAtAttribute

AUDIT_SHARDS = 8


class AuditRecord(LeadVaultModel):
    table_suffix = "audit_log"

    class Meta(LeadVaultModel.Meta):
        pass

    # "<tenant_id>#<YYYY-MM-DD>#<shard>": a day of one tenant spread over a few partitions.
    partition = UnicodeAttribute(hash_key=True)
    # "<ISO time>#<audit_id>": ordered by time within the partition.
    sort_key = UnicodeAttribute(range_key=True)
    audit_id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    actor_key_id = UnicodeAttribute()
    action = UnicodeAttribute()
    object_id = UnicodeAttribute(null=True)
    at = UTCDateTimeAttribute()
    expires_at = ExpiresAtAttribute()
