"""Changing a lead: stage, assignment (admins only) and custom fields, with optimistic locking.

The change, its timeline event and its audit record are one transaction: none exists without the
others, and the SDK's retry of a transaction whose answer was lost applies it once (its idempotency
token), so an applied change never comes back as a conflict.
"""

from __future__ import annotations

import random
import time
from typing import Any

from chalicelib import clock
from chalicelib.errors import Forbidden, LeadChanged, NotFound
from chalicelib.services import audit, event_log
from chalicelib.services.access.auth import Caller
from chalicelib.services.leads import actors
from chalicelib.services.leads.fields import check_custom_fields
from chalicelib.services.leads.inputs import LeadPatch
from chalicelib.services.leads.reading import lead_view, visible_lead
from chalicelib.services.tenants.tenancy import expiry, require_tenant
from chalicelib.services.validation import parse_input
from chalicelib.store import leads, timeline
from chalicelib.store.atomic import Refused
from chalicelib.store.changes import Changes
from chalicelib.store.leads import Lead, LeadChanges

COMMIT_TRIES = 6


def update_lead(caller: Caller, lead_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Apply a patch; a stage change is activity (it restarts the retention clock) and a timeline event."""
    patch = parse_input(LeadPatch, body)
    if patch.assigned_agent is not None and caller.role != "admin":
        raise Forbidden("Only admins assign leads.")
    lead = visible_lead(caller, lead_id)
    tenant = require_tenant(caller.tenant_id)
    now = clock.now()
    changes = LeadChanges(updated_at=now, assigned_agent=patch.assigned_agent)
    written = Changes()
    changed: list[str] = []
    if patch.stage is not None and patch.stage != lead.stage:
        expires_at = expiry(tenant, "leads", now)
        changes.stage, changes.activity_at, changes.expires_at = patch.stage, now, expires_at
        written.put(timeline.new_event(leads.key_of(lead), "stage_change", now, expires_at,
                                       info={"from": lead.stage, "to": patch.stage, "actor": actors.actor_of(caller)},
                                       actor_key_id=caller.key_id))
        changed.append("stage")
    if patch.assigned_agent is not None and patch.assigned_agent != lead.assigned_agent:
        info = actors.assignment_info(lead.assigned_agent, patch.assigned_agent, caller)
        written.put(timeline.new_event(leads.key_of(lead), "assignment_change", now,
                                       changes.expires_at or lead.expires_at, info=info, actor_key_id=caller.key_id))
        changed.insert(0, "assigned_agent")
    if patch.fields:
        fields = check_custom_fields(tenant, patch.fields)
        profile = leads.open_profile(lead)
        changes.profile = {**profile, "fields": {**profile.get("fields", {}), **fields}}
        changed += sorted(f"fields.{name}" for name, value in fields.items()
                          if profile.get("fields", {}).get(name) != value)
    written.guard(leads.update_write(lead, changes))
    written.put(audit.build(caller.tenant_id, caller.key_id, "lead.update", lead.lead_id))
    if changed:  # a patch that changes nothing tells no one
        written.put(event_log.build(tenant, "lead.updated", {"lead_id": lead.lead_id, "changed": changed}))
    _commit(written, lead)
    updated = leads.get(lead.lead_id)
    if updated is None:  # erased in the instant since: the change went with it
        raise NotFound("No such lead.")
    return lead_view(updated)


def _commit(written: Changes, lead: Lead) -> None:
    """Commit at the version read. A refusal while the version still stands was a concurrent writer
    touching the lead (a call's clocks) at the same instant: try again; a moved version is a conflict."""
    for attempt in range(COMMIT_TRIES):
        try:
            written.commit_atomically()
            return
        except Refused:
            current = leads.get(lead.lead_id)
            if current is None or current.version != lead.version:
                raise LeadChanged() from None
            time.sleep(min(0.2, 0.01 * 2**attempt) * random.random())
    raise LeadChanged()
