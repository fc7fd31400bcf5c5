"""Tenants: the businesses that use LeadVault. No personal data lives here."""

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

from chalicelib.store.base import LeadVaultModel
from chalicelib.store.ttl import ExpiresAtAttribute


class TenantRecord(LeadVaultModel):
    table_suffix = "tenants"

    class Meta(LeadVaultModel.Meta):
        pass

    tenant_id = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    default_region = UnicodeAttribute()
    own_numbers = ListAttribute(of=UnicodeAttribute, default=list)
    unknown_calls_become_leads = BooleanAttribute(default=False)
    # The per-tenant HMAC secret of the blind indexes, wrapped by the master key.
    wrapped_index_secret = BinaryAttribute(legacy_encoding=False)
    retention_days = MapAttribute(default=dict)
    # Declared custom lead fields: [{"name", "type", "category"}].
    fields = ListAttribute(of=MapAttribute, default=list)
    # "consent": widget leads need `contact` consent; "legitimate_interest": they may come without.
    lawful_basis = UnicodeAttribute(default="consent")
    # A shift left open closes itself after this many hours, so it cannot collect calls forever.
    max_shift_hours = NumberAttribute(default=12)
    # Days within which privacy requests must be answered.
    privacy_due_days = NumberAttribute(default=30)
    # The grievance officer people complain to: {"name", "channel": email|sms, "contact"}. A business
    # contact the tenant publishes (on the portal, in every grievance message), not a person's data we hold.
    grievance_officer = MapAttribute(null=True)
    # Days within which grievances must be answered.
    grievance_due_days = NumberAttribute(default=90)
    # How the tenant appears to people (messages, hosted pages, widget): business settings it publishes,
    # never a person's data. Unset: the tenant's name, the configured sender, no reply-to, no colour, no logo.
    display_name = UnicodeAttribute(null=True)
    sender_name = UnicodeAttribute(null=True)
    sender_address = UnicodeAttribute(null=True)
    reply_to = UnicodeAttribute(null=True)
    accent_colour = UnicodeAttribute(null=True)  # "#rrggbb"
    logo_url = UnicodeAttribute(null=True)  # https
    # Overrides of the public budgets (chalicelib.services.access.budgets.DEFAULT_BUDGETS), by name.
    budgets = MapAttribute(null=True)
    # Set when lead retention changed: the next purge re-dates the tenant's leads, resuming from
    # the positions it reached (shard -> list position) if a run ends first.
    redate_pending = BooleanAttribute(null=True)
    redate_positions = MapAttribute(null=True)
    # The last UTC day whose audit records the purge has deleted (YYYY-MM-DD).
    audit_purged_through = UnicodeAttribute(null=True)
    schema_version = NumberAttribute(default=1)
    created_at = UTCDateTimeAttribute()
    # Set only when a tenant is offboarded; every table carries the TTL attribute all the same.
    expires_at = ExpiresAtAttribute(null=True)

