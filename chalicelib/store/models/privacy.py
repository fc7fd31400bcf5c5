"""Privacy requests (access, erasure) and their exports."""

from __future__ import annotations

from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection

from chalicelib.store.base import LeadVaultModel
from chalicelib.store.ttl import ExpiresAtAttribute

WORK_SHARDS = 4


class OpenRequests(GlobalSecondaryIndex["PrivacyRequestRecord"]):
    """Requests with work left (sparse: ``work_pk`` is removed when a request is final)."""

    class Meta:
        index_name = "open_requests"
        projection = KeysOnlyProjection()

    work_pk = UnicodeAttribute(hash_key=True)
    work_sk = UnicodeAttribute(range_key=True)


class TenantRequests(GlobalSecondaryIndex["PrivacyRequestRecord"]):
    """One tenant's requests for its admins' list: ``<tenant_id>#open`` soonest due first, and one partition per
    final status (``<tenant_id>#completed`` ...) in completion order. Ids, statuses and dates only: nothing that
    identifies the person is in its keys or projected."""

    class Meta:
        index_name = "tenant_requests"
        projection = IncludeProjection(["type", "status", "created_at", "due_at", "completed_at", "receipt",
                                        "rejection_reason"])

    list_pk = UnicodeAttribute(hash_key=True)  # "<tenant_id>#open" | "<tenant_id>#<final status>"
    list_sk = UnicodeAttribute(range_key=True)  # "<due stamp>#<request id>" | "<completed stamp>#<request id>"


class PrivacyRequestRecord(LeadVaultModel):
    table_suffix = "privacy_requests"

    class Meta(LeadVaultModel.Meta):
        pass

    request_id = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute()
    type = UnicodeAttribute()
    status = UnicodeAttribute()
    channel = UnicodeAttribute()
    # The requester's e-mail or phone, sealed under the request's own key; shredded once they are told.
    identifier_sealed = BinaryAttribute(legacy_encoding=False, null=True)
    # The keyed hash (blind index) of that identifier: what remains after an erasure.
    identifier_ref = UnicodeAttribute()
    code_hash = UnicodeAttribute(null=True)
    code_expires_at = UTCDateTimeAttribute(null=True)
    attempts = NumberAttribute(default=0)
    # The token of the last counted attempt: the SDK's retry of that very count is not a second attempt.
    attempt_token = UnicodeAttribute(null=True)
    created_by_key_id = UnicodeAttribute()
    verified_by_admin = BooleanAttribute(default=False)
    created_at = UTCDateTimeAttribute()
    due_at = UTCDateTimeAttribute()
    verified_at = UTCDateTimeAttribute(null=True)
    completed_at = UTCDateTimeAttribute(null=True)
    phase = UnicodeAttribute(null=True)
    lead_ids = ListAttribute(of=UnicodeAttribute, default=list)
    # "<kind>:<blind index>" of every identifier of the person, kept only while the work runs.
    person_refs = ListAttribute(of=UnicodeAttribute, default=list)
    receipt = MapAttribute(default=dict)
    # An erasure's ``lead.erased`` event ids (hashes, no personal data): kept with the receipt, so the
    # receipt can show which webhooks were told and whether they acknowledged.
    erased_events = ListAttribute(of=UnicodeAttribute, null=True)
    rejection_reason = UnicodeAttribute(null=True)
    work_pk = UnicodeAttribute(null=True)
    work_sk = UnicodeAttribute(null=True)
    # The tenant's list (requests filed before the list existed carry neither and are not listed).
    list_pk = UnicodeAttribute(null=True)
    list_sk = UnicodeAttribute(null=True)
    expires_at = ExpiresAtAttribute(null=True)

    open_requests = OpenRequests()
    tenant_requests = TenantRequests()


class ExportRecord(LeadVaultModel):
    """An access request's export, in parts sealed under the request's key; all gone after seven days.

    Two shapes share the model: a part (``sealed``), and the manifest naming the parts of one write
    (``parts``, ``generation``), written after every part. An export stored before parts existed is a
    manifest that holds the whole export in ``sealed``.
    """

    table_suffix = "privacy_requests"

    class Meta(LeadVaultModel.Meta):
        pass

    # the manifest: "export#<request_id>"; a part: "export#<request_id>#<generation>#<n>"
    request_id = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute()
    sealed = BinaryAttribute(legacy_encoding=False, null=True)
    parts = NumberAttribute(null=True)
    generation = UnicodeAttribute(null=True)
    expires_at = ExpiresAtAttribute()
