"""Changing a lead: stage, assignment (admins only) and custom fields, with optimistic locking."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from chalicelib import clock
from chalicelib.errors import Conflict, Forbidden
from chalicelib.services import audit
from chalicelib.services.access.auth import Caller
from chalicelib.services.leads.fields import check_custom_fields
from chalicelib.services.leads.inputs import LeadPatch
from chalicelib.services.leads.reading import lead_view, open_profile, visible_lead
from chalicelib.services.leads.timeline import new_event
from chalicelib.services.tenants.tenancy import require_tenant, retention_days
from chalicelib.services.validation import parse_input
from chalicelib.store.base import LeadVaultModel
from chalicelib.store.batch import write_all
from chalicelib.store.models.leads import LeadRecord, renew_expiry, update_at_version
from chalicelib.vault import envelope


def update_lead(caller: Caller, lead_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Apply a patch; a stage change is activity (it restarts the retention clock) and a timeline event."""
    patch = parse_input(LeadPatch, body)
    if patch.assigned_agent is not None and caller.role != "admin":
        raise Forbidden("Only admins assign leads.")
    lead = visible_lead(caller, lead_id)
    tenant = require_tenant(caller.tenant_id)
    now = clock.now()
    actions: list[Any] = [LeadRecord.updated_at.set(now)]
    events: list[LeadVaultModel] = []
    expires_at = lead.expires_at
    if patch.stage is not None and patch.stage != lead.stage:
        expires_at = now + timedelta(days=retention_days(caller.tenant_id, "leads"))
        actions += [LeadRecord.stage.set(patch.stage), LeadRecord.last_activity_at.set(now),
                    *renew_expiry(lead, expires_at, now)]
        events.append(new_event(caller.tenant_id, lead.lead_id, "stage_change", now, expires_at,
                                info={"from": lead.stage, "to": patch.stage}, actor_key_id=caller.key_id))
    if patch.assigned_agent is not None:
        actions += [LeadRecord.assigned_agent.set(patch.assigned_agent),
                    LeadRecord.agent_pk.set(f"{caller.tenant_id}#{patch.assigned_agent}")]
    if patch.fields:
        fields = check_custom_fields(tenant, patch.fields)
        tenant_id = lead.tenant_id
        values = open_profile(lead)
        values["fields"] = {**values.get("fields", {}), **fields}
        actions.append(LeadRecord.sealed.set(envelope.seal(tenant_id, lead.lead_id, "profile", json.dumps(values))))
    if not update_at_version(lead, actions):
        raise Conflict("The lead changed meanwhile; read it again and retry.", code="lead_changed")
    events.append(audit.build(caller.tenant_id, caller.key_id, "lead.update", lead.lead_id))
    write_all(events)
    return lead_view(lead)
