"""Lead routes: intake from forms and apps, reading and working leads."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.endpoint import Call, endpoint, json_response

leads = Blueprint(__name__)

STAFF = ("agent", "admin")


@endpoint(leads, "/v1/leads", methods=("POST",), roles=("widget", "agent", "admin"), replay="service")
def create_lead(call: Call) -> Any:
    from chalicelib.services.leads.intake import Submission, submit_lead

    submission = Submission(caller=call.caller, idempotency_header=call.headers.get("idempotency-key"),
                            source_ip=call.source_ip, user_agent=call.headers.get("user-agent"))
    status, body = submit_lead(submission, call.body)
    return json_response(body, status)


@endpoint(leads, "/v1/leads", roles=STAFF)
def list_leads(call: Call) -> Any:
    from chalicelib.services.leads.reading import list_leads as list_page
    from chalicelib.services.pagination import parse_limit

    return list_page(call.caller, parse_limit(call.query.get("limit")), call.query.get("cursor"))


@endpoint(leads, "/v1/leads/{lead_id}", roles=STAFF)
def get_lead(call: Call, lead_id: str) -> Any:
    from chalicelib.services.leads.reading import get_lead as read_lead

    return read_lead(call.caller, lead_id)


@endpoint(leads, "/v1/leads/{lead_id}", methods=("PATCH",), roles=STAFF)
def patch_lead(call: Call, lead_id: str) -> Any:
    from chalicelib.services.leads.updating import update_lead

    return update_lead(call.caller, lead_id, call.body)


@endpoint(leads, "/v1/leads/{lead_id}/timeline", roles=STAFF)
def get_timeline(call: Call, lead_id: str) -> Any:
    from chalicelib.services.leads.reading import get_timeline as read_timeline
    from chalicelib.services.pagination import parse_limit

    return read_timeline(call.caller, lead_id, parse_limit(call.query.get("limit")), call.query.get("cursor"))


@endpoint(leads, "/v1/leads/{lead_id}/identifiers/accept", methods=("POST",), roles=STAFF)
def accept_identifier(call: Call, lead_id: str) -> Any:
    from chalicelib.services.rights.confirmations import accept_pending

    return accept_pending(call.caller, lead_id, call.body)
