"""Agents' field work: shifts and call uploads (agent keys only), and admins' view of an agent."""

from __future__ import annotations

from typing import Any

from chalicelib.api.endpoint import ApiBlueprint, Call, endpoint, json_response
from chalicelib.api.operations import ADMINS, AGENTS, PAGED, Operation

field_work = ApiBlueprint(__name__)


def _require_agent_id(call: Call) -> None:
    from chalicelib.errors import Forbidden

    if not call.caller.agent_id:
        raise Forbidden("This key is not an agent's key.")


@endpoint(field_work, Operation(
    "POST /v1/shifts/start", "startShift", "Punch in", AGENTS, "chalicelib.api.responses.field_work:ShiftStarted",
    status=201, request="chalicelib.services.field_work.shifts:StartShiftInput"))
def start_shift(call: Call) -> Any:
    from chalicelib.services.field_work import shifts

    _require_agent_id(call)
    return json_response(shifts.start_shift(call.caller, call.body), 201)


@endpoint(field_work, Operation(
    "POST /v1/shifts/end", "endShift", "Punch out", AGENTS, "chalicelib.api.responses.field_work:ShiftEnded"))
def end_shift(call: Call) -> Any:
    from chalicelib.services.field_work import shifts

    _require_agent_id(call)
    return shifts.end_shift(call.caller)


@endpoint(field_work, Operation(
    "POST /v1/calls", "uploadCalls", "Upload call metadata (stored only on shift, each call once)", AGENTS,
    "chalicelib.api.responses.field_work:CallResults", request="chalicelib.services.field_work.calls:CallBatchInput"))
def upload_calls(call: Call) -> Any:
    from chalicelib.services.field_work import calls

    _require_agent_id(call)
    return calls.upload_calls(call.caller, call.body)


@endpoint(field_work, Operation(
    "GET /v1/agents/{agent_id}/shifts", "listAgentShifts", "An agent's shifts, newest first", ADMINS,
    "chalicelib.api.responses.field_work:ShiftPage", query=("limit",)))
def agent_shifts(call: Call, agent_id: str) -> Any:
    from chalicelib.services.field_work import agents
    from chalicelib.services.pagination import parse_limit

    return agents.agent_shifts(call.caller, agent_id, parse_limit(call.query.get("limit")))


@endpoint(field_work, Operation(
    "GET /v1/agents/{agent_id}/calls", "listAgentCalls", "An agent's calls, newest first", ADMINS,
    "chalicelib.api.responses.field_work:CallPage", query=PAGED))
def agent_calls(call: Call, agent_id: str) -> Any:
    from chalicelib.services.field_work import agents
    from chalicelib.services.pagination import parse_limit

    return agents.agent_calls(call.caller, agent_id, parse_limit(call.query.get("limit")), call.query.get("cursor"))
