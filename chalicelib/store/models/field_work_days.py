"""Field work counted by day: one item per tenant, agent and UTC day, moved with the writes it counts.

What the calls report reads, a month of a tenant in one partition (never a scan of calls or shifts).
Counts and ids only: an agent id is the staff member's pseudonym the tenant chose, never a name.
"""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute

from chalicelib.store.base import LeadVaultModel
from chalicelib.store.ttl import ExpiresAtAttribute


class FieldWorkDayRecord(LeadVaultModel):
    table_suffix = "field_work_days"

    class Meta(LeadVaultModel.Meta):
        pass

    # "<tenant_id>#<YYYY-MM>": a month of one tenant, one query for a report.
    month_key = UnicodeAttribute(hash_key=True)
    # "<YYYY-MM-DD>#<agent_id>": ordered by day, then agent.
    day_key = UnicodeAttribute(range_key=True)
    stored = NumberAttribute(null=True)  # calls stored (new ones only: a duplicate is counted where it was stored)
    # calls ignored, by reason
    ignored_outside_shift = NumberAttribute(null=True)
    ignored_own_number = NumberAttribute(null=True)
    ignored_unknown_number = NumberAttribute(null=True)
    shifts = NumberAttribute(null=True)  # shifts started that day
    shift_minutes = NumberAttribute(null=True)  # minutes of the shifts started that day, added when they close
    # The writes counted here (an upload's, a shift's start or end): a retried one finds its token and adds nothing.
    tokens = UnicodeSetAttribute(null=True)
    expires_at = ExpiresAtAttribute(null=True)
