"""Leads: one item per person per tenant. Personal fields are sealed; the data key is inline.

The lead's wrapped data key lives on the lead item itself, so a new lead costs one item, not
two, and removing that attribute crypto-shreds everything sealed under it (submissions, calls,
consents) wherever copies of it are.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.store.base import LeadVaultModel
from chalicelib.store.ttl import ExpiresAtAttribute

LIST_SHARDS = 4


class TenantListIndex(GlobalSecondaryIndex["LeadRecord"]):
    """A tenant's leads ordered by expiry, spread over a few shards (never a bare tenant key).

    Oldest-first gives the purge exactly what is due, at a cost that tracks the expired leads, and
    the retention warnings what expires in a window. (Lists read ``by_activity``: expiry moves with
    retention changes and holds, so it is not activity order.)
    """

    class Meta:
        index_name = "by_tenant"
        projection = AllProjection()

    list_pk = UnicodeAttribute(hash_key=True)
    list_sk = UnicodeAttribute(range_key=True)


class ActivityListIndex(GlobalSecondaryIndex["LeadRecord"]):
    """A tenant's leads, most recently active first, over the same shards as ``by_tenant``.

    Staff lists want activity order whatever the retention or a hold does to expiry, while the purge
    and the retention warnings need expiry order: one index each, the same partitions.
    """

    class Meta:
        index_name = "by_activity"
        projection = AllProjection()

    list_pk = UnicodeAttribute(hash_key=True)
    activity_sk = UnicodeAttribute(range_key=True, attr_name="ak")


class AgentActivityIndex(GlobalSecondaryIndex["LeadRecord"]):
    """The leads assigned to one agent, most recently active first (sparse: only assigned leads carry
    ``agent_pk``). Nothing needs an agent's leads in expiry order."""

    class Meta:
        index_name = "by_agent_activity"
        projection = AllProjection()

    agent_pk = UnicodeAttribute(hash_key=True)
    activity_sk = UnicodeAttribute(range_key=True, attr_name="ak")


class LeadRecord(LeadVaultModel):
    """Kept under 1 KB (one write unit, for the item and each index entry): long-lived attributes
    have short stored names, and flags that are usually false are not stored at all."""

    table_suffix = "leads"

    class Meta(LeadVaultModel.Meta):
        pass

    lead_id = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute()
    wrapped_key = BinaryAttribute(legacy_encoding=False, null=True, attr_name="wk")
    master_key = UnicodeAttribute(null=True, attr_name="mk")
    # JSON of name, phone, email, fields and utm, sealed under the lead's key.
    sealed = BinaryAttribute(legacy_encoding=False, null=True)
    # Blind indexes (tenant-keyed HMACs), kept to find and delete the claims at erasure.
    phone_ref = UnicodeAttribute(null=True, attr_name="pr")
    email_ref = UnicodeAttribute(null=True, attr_name="er")
    # How each identifier got here: {"phone"|"email": "given"|"staff"|"proven"}. Identifiers only
    # asserted by a public submission to this lead wait, sealed in the profile under "pending",
    # with no claim and no ref, so they reach nothing until proven or accepted by staff.
    identity = MapAttribute(null=True, attr_name="idp")
    # The live confirmation links of this lead (unique_keys pks, one per address at most): newer
    # links replace them, so a flood of public submissions cannot grow the lead; deleted with it.
    confirm_refs = UnicodeSetAttribute(null=True, attr_name="cr")
    source = UnicodeAttribute()
    stage = UnicodeAttribute(default="new")
    assigned_agent = UnicodeAttribute(null=True)
    lawful_basis = UnicodeAttribute()
    consents = MapAttribute(default=dict)
    # The first submission's minimised context; later ones are timeline items.
    first_submission = MapAttribute(default=dict, attr_name="fs")
    # Every idempotency record that names this lead, so an erasure can find and delete them.
    idempotency_refs = UnicodeSetAttribute(null=True, attr_name="ir")
    # Marketing to this person is suppressed (they were erased before and came back).
    marketing_suppressed = BooleanAttribute(null=True, attr_name="ms")
    # Suspends retention and erasure (set by operators, audited).
    legal_hold = BooleanAttribute(null=True)
    legal_hold_reason = UnicodeAttribute(null=True)
    # The expiry (ISO) the person was last warned about: one retention notice per expiry, never two.
    retention_notice_for = UnicodeAttribute(null=True, attr_name="rn")
    # Seconds of retention left when the hold began; the clock resumes from there on release.
    held_remaining_s = NumberAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    last_activity_at = UTCDateTimeAttribute(attr_name="la")
    last_contacted_at = UTCDateTimeAttribute(null=True, attr_name="lc")
    version = NumberAttribute(default=1)
    # Set by each versioned update: its own SDK retry, refused by the version it already moved, reads this back.
    write_token = UnicodeAttribute(null=True, attr_name="wt")
    list_pk = UnicodeAttribute()
    # "<expires_at, ISO with microseconds>#<lead_id>"; a held lead sorts last and is never due.
    list_sk = UnicodeAttribute()
    # "<last_activity_at, ISO with microseconds>#<lead_id>": moved with ``la``, wherever it is written.
    # Null only on items written before it existed (``reindex-leads`` fills them in).
    activity_sk = UnicodeAttribute(null=True, attr_name="ak")
    agent_pk = UnicodeAttribute(null=True)
    expires_at = ExpiresAtAttribute(null=True)

    by_tenant = TenantListIndex()
    by_activity = ActivityListIndex()
    by_agent_activity = AgentActivityIndex()
