"""Changing a lead: stage, assignment (admins only) and custom fields, with optimistic locking."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from pynamodb.exceptions import UpdateError

from chalicelib import clock
from chalicelib.errors import Conflict, Forbidden
from chalicelib.services import audit
from chalicelib.services.auth import Caller
from chalicelib.services.fields import check_custom_fields
from chalicelib.services.leads.inputs import LeadPatch
from chalicelib.services.leads.reading import lead_view, visible_lead
from chalicelib.services.leads.timeline import new_event
from chalicelib.services.tenancy import require_tenant, retention_days
from chalicelib.services.validation import parse_input
from chalicelib.store.base import LeadVaultModel
from chalicelib.store.batch import write_all
from chalicelib.store.leads import LeadRecord, renew_expiry
from chalicelib.vault import envelope


def update_lead(caller: Caller, lead_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Apply a patch; a stage change is activity (it restarts the retention clock) and a timeline event."""
    patch = parse_input(LeadPatch, body)
    if patch.assigned_agent is not None and caller.role != "admin":
        raise Forbidden("Only admins assign leads.")
    lead = visible_lead(caller, lead_id)
    tenant = require_tenant(caller.tenant_id)
    now = clock.now()
    actions: list[Any] = [LeadRecord.updated_at.set(now), LeadRecord.version.set(lead.version + 1)]
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
        envelope.adopt_key(tenant_id, lead.lead_id, lead.wrapped_key)
        values = json.loads(envelope.unseal(tenant_id, lead.lead_id, "profile", lead.sealed)) if lead.sealed else {}
        values["fields"] = {**values.get("fields", {}), **fields}
        actions.append(LeadRecord.sealed.set(envelope.seal(tenant_id, lead.lead_id, "profile", json.dumps(values))))
    try:
        lead.update(actions=actions, condition=LeadRecord.version == lead.version)
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise Conflict("The lead changed meanwhile; read it again and retry.", code="lead_changed") from None
        raise
    events.append(audit.build(caller.tenant_id, caller.key_id, "lead.update", lead.lead_id))
    write_all(events)
    return lead_view(lead)
