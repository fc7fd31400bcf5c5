"""Access: every field of every item about the person, opened, as one JSON export (seven days)."""

from __future__ import annotations

from typing import Any

from chalicelib import clock
from chalicelib.services.leads.reading import lead_view
from chalicelib.services.leads.timeline import event_view, first_submission_view
from chalicelib.services.rights.exports import store_export
from chalicelib.services.rights.locate import find_person
from chalicelib.services.tenants.tenancy import Tenant
from chalicelib.store import consents, field_work, leads, privacy, timeline
from chalicelib.store.privacy import PrivacyRequest
from chalicelib.vault.blind_index import blind_index


def build_export(tenant: Tenant, request: PrivacyRequest) -> dict[str, Any]:
    kind, ref = privacy.identifier_of(request)
    person = find_person(request.tenant_id, kind, ref)
    views, events, calls = [], [], []
    for lead in person.leads:
        if not leads.is_live(lead):
            continue
        key = leads.key_of(lead)
        view = lead_view(lead)
        # asserted by someone, proven by no one: not the requester's to read
        view["pending_identifiers"] = [{"kind": item["kind"], "value": None, "asserted_at": item["asserted_at"]}
                                       for item in view["pending_identifiers"]]
        views.append(view)
        events += [{"lead_id": lead.lead_id, **_withheld_unless_carried(event_view(key, event), tenant, kind, ref)}
                   for event in timeline.of_owner(lead.lead_id)]
        events.append({"lead_id": lead.lead_id, **first_submission_view(lead)})
        calls += [{"lead_id": call.lead_id, "client_event_id": call.client_event_id,
                   "number": field_work.number_of(key, call), "direction": call.direction, "status": call.status,
                   "started_at": clock.iso(call.started_at), "duration_s": int(call.duration_s),
                   "agent_id": call.agent_id} for call in field_work.calls_of_lead(lead.lead_id)]
    without_lead = [event_view(consents.ledger_key(request.tenant_id, owner), event)
                    for owner in person.subject_owners() for event in timeline.of_owner(owner)]
    return {"request_id": request.request_id, "generated_at": clock.iso(clock.now()), "leads": views,
            "timeline": events, "calls": calls, "consents_without_lead": without_lead}


def _withheld_unless_carried(view: dict[str, Any], tenant: Tenant, kind: str, ref: str) -> dict[str, Any]:
    """A submission's values go to a requester only if it carried the identifier they proved.

    Someone who knows one of a lead's identifiers may have submitted to it; what they typed is
    theirs, not the requester's, so only the facts of it (time, changed field names) are shown.
    """
    values = view.get("values")
    if view.get("type") != "submission" or not isinstance(values, dict):
        return view
    given = values.get(kind)
    if isinstance(given, str) and blind_index(tenant, kind, given) == ref:
        return view
    return {**{k: v for k, v in view.items() if k != "values"}, "values_withheld": "submitted with another identifier"}


def run_access(tenant: Tenant, request: PrivacyRequest) -> None:
    """Build and store the export, and count what it holds on the receipt; the worker then tells the person."""
    export = build_export(tenant, request)
    store_export(request, export)
    counts = {"leads": len(export["leads"]), "timeline_events": len(export["timeline"]),
              "calls": len(export["calls"]), "consents_without_lead": len(export["consents_without_lead"])}
    privacy.set_receipt(request, counts, phase="notify")
