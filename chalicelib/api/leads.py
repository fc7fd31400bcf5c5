"""Lead routes: intake from forms and apps, reading and working leads."""

from __future__ import annotations

from typing import Any

from chalice import Response

from chalicelib.api.endpoint import ApiBlueprint, Call, endpoint, json_response
from chalicelib.api.operations import ADMINS, ANY_KEY, PAGED, STAFF, Operation

leads = ApiBlueprint(__name__)

FILTERS = ("stage", "agent_id", "source", "created_from", "created_to")
LEAD_FILTERS = (*FILTERS, "q")  # q only to say where it goes instead (400 use_post_lookup)
NEXT_CURSOR = "LeadVault-Next-Cursor"
EXPORT_ROWS = 5000


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
    "GET /v1/leads", "listLeads",
    "List leads, most recently active first (agents: their own), filtered",
    STAFF, "chalicelib.api.responses.leads:LeadPage", query=(*LEAD_FILTERS, *PAGED)))
def list_leads(call: Call) -> Any:
    from chalicelib.services.leads import reading
    from chalicelib.services.pagination import parse_limit

    return reading.list_leads(call.caller, call.query, parse_limit(call.query.get("limit")),
                              call.query.get("cursor"))


SEARCH = Operation(
    "POST /v1/leads/search", "searchLeads",
    "Find the lead an exact phone or e-mail identifies (blind index; audited), within the list's filters", STAFF,
    "chalicelib.api.responses.leads:LeadPage", request="chalicelib.services.leads.listing:LeadSearchInput",
    replay="service")


@endpoint(leads, SEARCH)
def search_leads(call: Call) -> Any:
    from chalicelib.services import idempotency
    from chalicelib.services.leads import reading

    # A read: an Idempotency-Key is checked like on any POST, but no copy of the answer (personal data) is
    # kept to replay, as for the consent lookup.
    idempotency.idempotency_key(call.caller.tenant_id, call.caller.key_id, call.headers.get("idempotency-key"),
                                SEARCH.route, call.body)
    return reading.search_leads(call.caller, call.body)


@endpoint(leads, Operation(
    "GET /v1/leads/export", "exportLeads",
    f"The filtered leads as CSV, newest activity first, at most {EXPORT_ROWS} rows an answer (audited)", ADMINS,
    {"type": "string"}, query=(*FILTERS, "cursor"), content_type="text/csv", headers=(
        (NEXT_CURSOR, {"required": False, "description": "More rows remain: pass this as cursor for the next answer",
                       "schema": {"type": "string"}}),
        ("Content-Disposition", {"required": True, "schema": {"type": "string"}}))))
def export_leads(call: Call) -> Response:
    from chalicelib.services.leads.export import export_leads

    exported = export_leads(call.caller, call.query)
    headers = {"Content-Type": "text/csv; charset=utf-8", "Cache-Control": "no-store",
               "Content-Disposition": 'attachment; filename="leads.csv"', "X-Content-Type-Options": "nosniff"}
    if exported.next_cursor:
        headers[NEXT_CURSOR] = exported.next_cursor
    return Response(body=exported.text, status_code=200, headers=headers)


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
    "PUT /v1/leads/{lead_id}/legal-hold", "setLegalHold",
    "Hold a lead (retention and erasure suspended) or release it, as admin_legal_hold does (audited)", ADMINS,
    "chalicelib.api.responses.leads:LeadView", request="chalicelib.services.retention.settings:LegalHoldRequest",
    errors=(409,)))
def set_legal_hold(call: Call, lead_id: str) -> Any:
    from chalicelib.services.retention.settings import hold_lead

    return hold_lead(call.caller, lead_id, call.body)


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
