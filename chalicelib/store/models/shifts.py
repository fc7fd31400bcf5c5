"""Agents' shifts (punch-in to punch-out): calls are kept only when they fall inside one."""

from __future__ import annotations

from pynamodb.attributes import MapAttribute, UnicodeAttribute, UTCDateTimeAttribute

from chalicelib.store.base import LeadVaultModel
from chalicelib.store.ttl import ExpiresAtAttribute


class ShiftRecord(LeadVaultModel):
    table_suffix = "shifts"

    class Meta(LeadVaultModel.Meta):
        pass

    # "<tenant_id>#<agent_id>": one agent's shifts in one partition, in time order.
    agent_key = UnicodeAttribute(hash_key=True)
    # "<ISO start with microseconds>#<shift_id>"
    started_sort = UnicodeAttribute(range_key=True)
    shift_id = UnicodeAttribute()
    tenant_id = UnicodeAttribute()
    started_at = UTCDateTimeAttribute()
    ended_at = UTCDateTimeAttribute(null=True)
    # "agent" (punched out) or "auto" (closed at the tenant's maximum shift length).
    closed_by = UnicodeAttribute(null=True)
    # Rounded to two decimals (about a kilometre).
    location = MapAttribute(null=True)
    expires_at = ExpiresAtAttribute(null=True)
