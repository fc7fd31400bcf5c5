"""Grievance routes: a person raises a complaint through the portal; staff read the queue and answer."""

from __future__ import annotations

from typing import Any

from chalicelib.api.endpoint import ApiBlueprint, Call, endpoint, json_response
from chalicelib.api.operations import ADMINS, FORMS, PAGED, Operation

grievances = ApiBlueprint(__name__)

RESPONSES = "chalicelib.api.responses.grievances"


@endpoint(grievances, Operation(
    "GET /v1/grievance-officer", "getGrievanceOfficer",
    "The tenant's grievance officer and answer time, for the portal (null when none is named)", FORMS,
    f"{RESPONSES}:GrievanceOfficer", browser=True))
def get_officer(call: Call) -> Any:
    from chalicelib.services.rights.grievances.officer import public_officer

    return public_officer(call.caller)


@endpoint(grievances, Operation(
    "POST /v1/grievances", "raiseGrievance", "Raise a complaint with the grievance officer; a code goes to the "
    "address given", FORMS, f"{RESPONSES}:GrievanceFiled", status=202,
    request="chalicelib.services.rights.grievances.filing:GrievanceInput", produces=("grievance_id",),
    errors=(409, 429), browser=True))
def post_grievance(call: Call) -> Any:
    from chalicelib.services.rights.grievances.filing import file_grievance

    return json_response(file_grievance(call.caller, call.body, call.source_ip), 202)


@endpoint(grievances, Operation(
    "POST /v1/grievances/{grievance_id}/verify", "verifyGrievance",
    "Verify a complaint with the one-time code: it opens and the officer is told", FORMS,
    f"{RESPONSES}:GrievanceState", request="chalicelib.services.rights.grievances.filing:GrievanceCodeInput",
    errors=(410, 429), browser=True))
def verify_grievance(call: Call, grievance_id: str) -> Any:
    from chalicelib.services.rights.grievances import filing

    return filing.verify_grievance(call.caller, grievance_id, call.body)


@endpoint(grievances, Operation(
    "GET /v1/grievances", "listGrievances", "The grievance queue: open first, soonest due first (no personal data)",
    ADMINS, f"{RESPONSES}:GrievancePage", query=("status", *PAGED)))
def list_grievances(call: Call) -> Any:
    from chalicelib.services.pagination import parse_limit
    from chalicelib.services.rights.grievances import handling

    return handling.list_grievances(call.caller, call.query.get("status"), parse_limit(call.query.get("limit")),
                   call.query.get("cursor"))


@endpoint(grievances, Operation(
    "GET /v1/grievances/{grievance_id}", "getGrievance", "A grievance with its complaint and answer (audited)",
    ADMINS, f"{RESPONSES}:GrievanceView"))
def get_grievance(call: Call, grievance_id: str) -> Any:
    from chalicelib.services.rights.grievances import handling

    return handling.get_grievance(call.caller, grievance_id)


@endpoint(grievances, Operation(
    "POST /v1/grievances/{grievance_id}/answer", "answerGrievance",
    "Answer an open grievance; the person gets it on the channel they proved (audited)", ADMINS,
    f"{RESPONSES}:GrievanceView", request="chalicelib.services.rights.grievances.handling:AnswerInput",
    errors=(409,)))
def answer_grievance(call: Call, grievance_id: str) -> Any:
    from chalicelib.services.rights.grievances import handling

    return handling.answer_grievance(call.caller, grievance_id, call.body)
