"""Privacy policy versions, users' in-app inboxes, and who accepted what."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.store.base import LeadVaultModel
from chalicelib.store.ttl import ExpiresAtAttribute


class PoliciesByScope(GlobalSecondaryIndex["PolicyRecord"]):
    """The versions of one scope ("platform" or a tenant id) in effective order."""

    class Meta:
        index_name = "by_scope"
        projection = AllProjection()

    scope_key = UnicodeAttribute(hash_key=True)
    effective_sort = UnicodeAttribute(range_key=True)


class PolicyRecord(LeadVaultModel):
    table_suffix = "policies"

    class Meta(LeadVaultModel.Meta):
        pass

    policy_id = UnicodeAttribute(hash_key=True)
    scope = UnicodeAttribute()  # platform | tenant
    scope_key = UnicodeAttribute()
    effective_sort = UnicodeAttribute()
    version = UnicodeAttribute()
    url = UnicodeAttribute()
    summary = UnicodeAttribute()
    effective_at = UTCDateTimeAttribute()
    created_at = UTCDateTimeAttribute()
    recipients = NumberAttribute(default=0)
    # Recipients settled, each counted once in the same transaction as its ledger record.
    sent = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)
    skipped = NumberAttribute(default=0)
    # The same per channel (email, sms, in_app), in the same transactions: top-level numbers, as ADD takes no
    # nested path. The audience per channel is counted at publication; the skips of a version's end (people
    # erased since publication) and of a lead left with no contact have no channel: they are in ``skipped`` only.
    email_recipients = NumberAttribute(null=True)
    email_sent = NumberAttribute(null=True)
    email_failed = NumberAttribute(null=True)
    email_skipped = NumberAttribute(null=True)
    sms_recipients = NumberAttribute(null=True)
    sms_sent = NumberAttribute(null=True)
    sms_failed = NumberAttribute(null=True)
    sms_skipped = NumberAttribute(null=True)
    in_app_recipients = NumberAttribute(null=True)
    in_app_sent = NumberAttribute(null=True)
    in_app_failed = NumberAttribute(null=True)
    in_app_skipped = NumberAttribute(null=True)
    done = BooleanAttribute(null=True)
    # The dispatcher's walk of the audience: which pass, where it got to in each shard, and whether
    # this pass met anyone not yet settled (then another pass follows).
    walk = NumberAttribute(null=True)
    positions = MapAttribute(null=True)
    dirty = BooleanAttribute(null=True)
    expires_at = ExpiresAtAttribute(null=True)

    by_scope = PoliciesByScope()


class InboxRecord(LeadVaultModel):
    """An in-app notice for one user (an agent or admin key), and their acceptance."""

    table_suffix = "inbox"

    class Meta(LeadVaultModel.Meta):
        pass

    key_id = UnicodeAttribute(hash_key=True)
    # "<effective ISO>#<policy_id>": newest first, one item per policy version.
    sort_key = UnicodeAttribute(range_key=True)
    tenant_id = UnicodeAttribute()
    policy_id = UnicodeAttribute()
    version = UnicodeAttribute()
    kind = UnicodeAttribute(default="policy")
    url = UnicodeAttribute()
    summary = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    accepted_at = UTCDateTimeAttribute(null=True)
    expires_at = ExpiresAtAttribute(null=True)
