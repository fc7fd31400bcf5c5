"""Leads: one item per person per tenant. Personal fields are sealed; the data key is inline.

The lead's wrapped data key lives on the lead item itself, so a new lead costs one item, not
two, and removing that attribute crypto-shreds everything sealed under it (submissions, calls,
consents) wherever copies of it are.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

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

from chalicelib import clock
from chalicelib.store.base import LeadVaultModel
from chalicelib.store.ttl import ExpiresAtAttribute

LIST_SHARDS = 4


class TenantListIndex(GlobalSecondaryIndex["LeadRecord"]):
    """A tenant's leads ordered by expiry, spread over a few shards (never a bare tenant key).

    Expiry is last activity plus the tenant's retention, so newest-expiry-first is "most recently
    active first" for lists, and oldest-first gives the purge exactly what is due, at a cost that
    tracks the expired leads, with no index beyond the one lists need anyway.
    """

    class Meta:
        index_name = "by_tenant"
        projection = AllProjection()

    list_pk = UnicodeAttribute(hash_key=True)
    list_sk = UnicodeAttribute(range_key=True)


class AgentListIndex(GlobalSecondaryIndex["LeadRecord"]):
    """The leads assigned to one agent (sparse: only assigned leads carry ``agent_pk``)."""

    class Meta:
        index_name = "by_agent"
        projection = AllProjection()

    agent_pk = UnicodeAttribute(hash_key=True)
    list_sk = UnicodeAttribute(range_key=True)


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
    list_pk = UnicodeAttribute()
    # "<expires_at, ISO with microseconds>#<lead_id>"; a held lead sorts last and is never due.
    list_sk = UnicodeAttribute()
    agent_pk = UnicodeAttribute(null=True)
    expires_at = ExpiresAtAttribute(null=True)

    by_tenant = TenantListIndex()
    by_agent = AgentListIndex()


HELD = "9999-12-31T23:59:59.999999Z"


def list_key(lead_id: str, expires_at: datetime | None) -> str:
    """The list and purge order of a lead: its expiry (held leads, without one, sort last)."""
    when = clock.sort_stamp(expires_at) if expires_at else HELD
    return f"{when}#{lead_id}"


def update_at_version(lead: LeadRecord, actions: list[Any]) -> bool:
    """Apply ``actions`` (and the next version) if the lead is still at the version read; False when
    another write came first, so the caller reads again or reports the conflict."""
    from pynamodb.exceptions import UpdateError

    try:
        lead.update(actions=[*actions, LeadRecord.version.set(lead.version + 1)],
                    condition=LeadRecord.version == lead.version)
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def renew_expiry(lead: LeadRecord, expires_at: datetime, now: datetime) -> list[Any]:
    """The update actions that restart a lead's retention clock; a held lead banks it until release."""
    if lead.legal_hold:
        return [LeadRecord.held_remaining_s.set(max(0, int((expires_at - now).total_seconds())))]
    return [LeadRecord.expires_at.set(expires_at), LeadRecord.list_sk.set(list_key(lead.lead_id, expires_at))]


def list_shard(lead_id: str) -> int:
    return int(lead_id[-2:], 16) % LIST_SHARDS




def update_if_unchanged(changes: list[tuple[LeadRecord, dict[str, datetime]]]) -> list[LeadRecord]:
    """Set the clocks of many leads, 25 a call (PartiQL), each only if its version is as read.

    Returns the leads that changed meanwhile (their statement was refused), for the caller to retry.
    """
    from chalicelib.store.batch import execute_statements

    table = LeadRecord.Meta.table_name
    statements = []
    for lead, values in changes:
        movable: list[tuple[Any, dict[str, str]]] = [
            (LeadRecord.last_contacted_at, {"S": LeadRecord.last_contacted_at.serialize(values["last_contacted_at"])}),
            (LeadRecord.last_activity_at, {"S": LeadRecord.last_activity_at.serialize(values["last_activity_at"])}),
        ]
        if lead.legal_hold:  # a held lead's clock is banked, not set (see renew_expiry)
            banked = max(0, int((values["expires_at"] - values["last_activity_at"]).total_seconds()))
            movable.append((LeadRecord.held_remaining_s, {"N": str(banked)}))
        else:
            movable += [(LeadRecord.expires_at, {"N": LeadRecord.expires_at.serialize(values["expires_at"])}),
                        (LeadRecord.list_sk, {"S": list_key(lead.lead_id, values["expires_at"])})]
        assignments = ", ".join(f"{attribute.attr_name}=?" for attribute, _ in movable)
        parameters = [value for _, value in movable] + [{"S": lead.lead_id}, {"N": str(lead.version)}]
        # Only our own table and attribute names are interpolated; every value is a parameter.
        statement = f'UPDATE "{table}" SET {assignments} WHERE lead_id=? AND version=?'  # noqa: S608
        statements.append({"Statement": statement,
                           "Parameters": parameters})
    refused = execute_statements(statements)
    return [changes[index][0] for index in refused]


def set_expiry_if_unchanged(changes: list[tuple[LeadRecord, datetime]]) -> list[LeadRecord]:
    """Re-date many leads, 25 a call, each only if unchanged since read; returns those refused."""
    from chalicelib.store.batch import execute_statements

    table = LeadRecord.Meta.table_name
    statements = []
    for lead, expires_at in changes:
        statement = (f'UPDATE "{table}" SET {LeadRecord.expires_at.attr_name}=?, {LeadRecord.list_sk.attr_name}=? '  # noqa: S608
                     "WHERE lead_id=? AND version=?")
        statements.append({"Statement": statement, "Parameters": [
            {"N": LeadRecord.expires_at.serialize(expires_at)}, {"S": list_key(lead.lead_id, expires_at)},
            {"S": lead.lead_id}, {"N": str(lead.version)}]})
    refused = execute_statements(statements)
    return [changes[index][0] for index in refused]
