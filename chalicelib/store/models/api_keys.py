"""API keys, stored only as a hash of their secret part."""

from __future__ import annotations

from pynamodb.attributes import BinaryAttribute, ListAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.store.base import LeadVaultModel
from chalicelib.store.ttl import ExpiresAtAttribute


class ApiKeyRecord(LeadVaultModel):
    table_suffix = "api_keys"

    class Meta(LeadVaultModel.Meta):
        pass

    key_id = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute()
    role = UnicodeAttribute()
    secret_hash = BinaryAttribute(legacy_encoding=False)
    agent_id = UnicodeAttribute(null=True)
    # The key holder's e-mail (for policy notices), sealed under the holder's own data key.
    email_sealed = BinaryAttribute(legacy_encoding=False, null=True)
    subject_id = UnicodeAttribute(null=True)
    allowed_origins = ListAttribute(of=UnicodeAttribute, default=list)
    created_at = UTCDateTimeAttribute()
    revoked_at = UTCDateTimeAttribute(null=True)
    expires_at = ExpiresAtAttribute(null=True)
