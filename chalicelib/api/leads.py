"""Lead routes: intake from forms and apps, reading and working leads."""

from __future__ import annotations

from typing import Any

from chalicelib.api.endpoint import ApiBlueprint, Call, endpoint, json_response
from chalicelib.api.operations import ANY_KEY, PAGED, STAFF, Operation

leads = ApiBlueprint(__name__)


@endpoint(leads, Operation(
    "POST /v1/leads", "createLead", "Submit a lead: 201 created, 200 merged into the person's lead", ANY_KEY,
    "chalicelib.api.responses.leads:LeadAnswer", status=201, also=(200,),
    request="chalicelib.services.leads.inputs:LeadInput", produces=("lead_id",), errors=(429,), replay="service",
    browser=True))
def create_lead(call: Call) -> Any:
    from chalicelib.services.leads.intake import Submission, submit_lead

    submission = Submission(caller=call.caller, idempotency_header=call.headers.get("idempotency-key"),
                            source_ip=call.source_ip, user_agent=call.headers.get("user-agent"))
    status, body = submit_lead(submission, call.body)
    return json_response(body, status)


@endpoint(leads, Operation(
    "GET /v1/leads", "listLeads", "List leads, most recently active first (agents: their own)", STAFF,
    "chalicelib.api.responses.leads:LeadPage", query=PAGED))
def list_leads(call: Call) -> Any:
    from chalicelib.services.leads import reading
    from chalicelib.services.pagination import parse_limit

    return reading.list_leads(call.caller, parse_limit(call.query.get("limit")), call.query.get("cursor"))


@endpoint(leads, Operation(
    "GET /v1/leads/{lead_id}", "getLead", "Read a lead", STAFF, "chalicelib.api.responses.leads:LeadView"))
def get_lead(call: Call, lead_id: str) -> Any:
    from chalicelib.services.leads import reading

    return reading.get_lead(call.caller, lead_id)


@endpoint(leads, Operation(
    "PATCH /v1/leads/{lead_id}", "updateLead", "Change stage, assignee (admins), fields", STAFF,
    "chalicelib.api.responses.leads:LeadView", request="chalicelib.services.leads.inputs:LeadPatch", errors=(409,)))
def patch_lead(call: Call, lead_id: str) -> Any:
    from chalicelib.services.leads.updating import update_lead

    return update_lead(call.caller, lead_id, call.body)


@endpoint(leads, Operation(
    "GET /v1/leads/{lead_id}/timeline", "getLeadTimeline", "A lead's events, newest first", STAFF,
    "chalicelib.api.responses.leads:TimelinePage", query=PAGED))
def get_timeline(call: Call, lead_id: str) -> Any:
    from chalicelib.services.leads import reading
    from chalicelib.services.pagination import parse_limit

    return reading.get_timeline(call.caller, lead_id, parse_limit(call.query.get("limit")), call.query.get("cursor"))


@endpoint(leads, Operation(
    "POST /v1/leads/{lead_id}/identifiers/accept", "acceptIdentifier",
    "Accept a lead's pending e-mail or phone as staff (audited)", STAFF, "chalicelib.api.responses.leads:LeadView",
    request="chalicelib.services.rights.confirmations:AcceptInput", errors=(404, 409)))
def accept_identifier(call: Call, lead_id: str) -> Any:
    from chalicelib.services.rights.confirmations import accept_pending

    return accept_pending(call.caller, lead_id, call.body)
