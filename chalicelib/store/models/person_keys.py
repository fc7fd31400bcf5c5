"""Per-person data keys, wrapped by the master key. Deleting one crypto-shreds the person."""

from __future__ import annotations

from pynamodb.attributes import BinaryAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.store.base import LeadVaultModel
from chalicelib.store.ttl import ExpiresAtAttribute


class PersonKeyRecord(LeadVaultModel):
    table_suffix = "person_keys"

    class Meta(LeadVaultModel.Meta):
        pass

    # "<tenant_id>#<subject_id>": spreads writes over partitions and scopes every read to a tenant.
    key_ref = UnicodeAttribute(hash_key=True)
    wrapped_key = BinaryAttribute(legacy_encoding=False)
    master_key = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = ExpiresAtAttribute(null=True)


def key_ref(tenant_id: str, subject_id: str) -> str:
    return f"{tenant_id}#{subject_id}"
