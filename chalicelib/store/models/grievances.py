"""Grievances: complaints people raise with a tenant's grievance officer. Their own table.

A grievance is its own subject: its wrapped data key is inline (as a lead's is), so the item
expiring, or that attribute being removed, shreds everything sealed on it at once, with no key
record left behind in another table.
"""

from __future__ import annotations

from pynamodb.attributes import BinaryAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection

from chalicelib.store.base import LeadVaultModel
from chalicelib.store.ttl import ExpiresAtAttribute


class GrievanceQueue(GlobalSecondaryIndex["GrievanceRecord"]):
    """A tenant's verified grievances: open before answered, soonest due first (sparse: a grievance
    joins it once verified). Only what a list shows is projected, nothing sealed."""

    class Meta:
        index_name = "queue"
        projection = IncludeProjection(["status", "due_at", "created_at", "answered_at", "channel"])

    queue_pk = UnicodeAttribute(hash_key=True)  # the tenant id
    queue_sk = UnicodeAttribute(range_key=True)  # "<rank>#<due stamp>#<grievance id>"


class GrievanceRecord(LeadVaultModel):
    table_suffix = "grievances"

    class Meta(LeadVaultModel.Meta):
        pass

    grievance_id = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute()
    status = UnicodeAttribute()  # pending_verification | open | answered | rejected
    channel = UnicodeAttribute()  # email | sms: how the person is answered
    # The grievance's own data key, wrapped by the master key; removing it shreds what follows.
    wrapped_key = BinaryAttribute(legacy_encoding=False, null=True)
    master_key = UnicodeAttribute(null=True)
    identifier_sealed = BinaryAttribute(legacy_encoding=False, null=True)
    identifier_ref = UnicodeAttribute()  # "<kind>:<blind index>"
    text_sealed = BinaryAttribute(legacy_encoding=False, null=True)
    answer_sealed = BinaryAttribute(legacy_encoding=False, null=True)
    code_hash = UnicodeAttribute(null=True)
    code_expires_at = UTCDateTimeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    # The token of the last counted attempt: the SDK's retry of that very count is not a second attempt.
    attempt_token = UnicodeAttribute(null=True)
    created_by_key_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    due_at = UTCDateTimeAttribute()
    verified_at = UTCDateTimeAttribute(null=True)
    officer_notified_at = UTCDateTimeAttribute(null=True)
    answered_at = UTCDateTimeAttribute(null=True)
    answered_by_key_id = UnicodeAttribute(null=True)
    answer_sent_at = UTCDateTimeAttribute(null=True)
    queue_pk = UnicodeAttribute(null=True)
    queue_sk = UnicodeAttribute(null=True)
    expires_at = ExpiresAtAttribute()

    queue = GrievanceQueue()
