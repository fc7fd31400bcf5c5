"""Access: every field of every item about the person, opened, as one JSON export (seven days)."""

from __future__ import annotations

import json
import zlib
from datetime import timedelta
from typing import Any

from chalicelib import clock
from chalicelib.services.leads.reading import is_live, lead_view
from chalicelib.services.leads.timeline import event_view, first_submission_view
from chalicelib.services.rights.locate import calls_of, events_of, find_person
from chalicelib.services.rights.requests import EXPORT_DAYS
from chalicelib.store.models.privacy import ExportRecord, PrivacyRequestRecord
from chalicelib.vault import envelope


def build_export(record: PrivacyRequestRecord) -> dict[str, Any]:
    kind, ref = record.identifier_ref.split(":", 1)
    person = find_person(record.tenant_id, kind, ref)
    leads, timeline, calls, consents = [], [], [], []
    for lead in person.leads:
        if not is_live(lead):
            continue
        envelope.adopt_key(lead.tenant_id, lead.lead_id, lead.wrapped_key)
        view = lead_view(lead)
        # asserted by someone, proven by no one: not the requester's to read
        view["pending_identifiers"] = [{"kind": item["kind"], "value": None, "asserted_at": item["asserted_at"]}
                                       for item in view["pending_identifiers"]]
        leads.append(view)
        events = list(events_of(lead.lead_id))
        timeline += [{"lead_id": lead.lead_id, **_withheld_unless_carried(event_view(lead.tenant_id, e), kind, ref,
                                                                          lead.tenant_id)} for e in events]
        timeline.append({"lead_id": lead.lead_id, **first_submission_view(lead)})
        for call in calls_of(lead.tenant_id, events):
            number = envelope.unseal(call.tenant_id, call.lead_id, f"call:{call.client_event_id}", call.number_sealed)
            calls.append({"lead_id": call.lead_id, "client_event_id": call.client_event_id, "number": number,
                          "direction": call.direction, "status": call.status,
                          "started_at": clock.iso(call.started_at), "duration_s": int(call.duration_s),
                          "agent_id": call.agent_id})
    for owner in person.owners()[len(person.lead_ids):]:
        consents += [event_view(record.tenant_id, e) for e in events_of(owner)]
    return {"request_id": record.request_id, "generated_at": clock.iso(clock.now()), "leads": leads,
            "timeline": timeline, "calls": calls, "consents_without_lead": consents}


def _withheld_unless_carried(view: dict[str, Any], kind: str, ref: str, tenant_id: str) -> dict[str, Any]:
    """A submission's values go to a requester only if it carried the identifier they proved.

    Someone who knows one of a lead's identifiers may have submitted to it; what they typed is
    theirs, not the requester's, so only the facts of it (time, changed field names) are shown.
    """
    from chalicelib.vault.blind_index import blind_index

    values = view.get("values")
    if view.get("type") != "submission" or not isinstance(values, dict):
        return view
    given = values.get(kind)
    if isinstance(given, str) and blind_index(tenant_id, kind, given) == ref:
        return view
    return {**{k: v for k, v in view.items() if k != "values"}, "values_withheld": "submitted with another identifier"}


def run_access(record: PrivacyRequestRecord) -> None:
    from chalicelib.services.rights.worker import finish

    export = build_export(record)
    compressed = zlib.compress(json.dumps(export, ensure_ascii=False).encode(), 9)
    now = clock.now()
    ExportRecord(f"export#{record.request_id}", tenant_id=record.tenant_id,
                 sealed=envelope.seal_bytes(record.tenant_id, record.request_id, "export", compressed),
                 expires_at=now + timedelta(days=EXPORT_DAYS)).save()
    counts = {"leads": len(export["leads"]), "timeline_events": len(export["timeline"]),
              "calls": len(export["calls"]), "consents_without_lead": len(export["consents_without_lead"])}
    record.update(actions=[PrivacyRequestRecord.receipt.set(counts), PrivacyRequestRecord.phase.set("notify")])
    finish(record, keep_request_key=True)
