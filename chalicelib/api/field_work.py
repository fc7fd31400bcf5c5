"""Agents' field work: shifts and call uploads (agent keys only), and admins' view of an agent."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.endpoint import Call, endpoint, json_response

field_work = Blueprint(__name__)

AGENTS = ("agent",)


def _require_agent_id(call: Call) -> None:
    from chalicelib.errors import Forbidden

    if not call.caller.agent_id:
        raise Forbidden("This key is not an agent's key.")


@endpoint(field_work, "/v1/shifts/start", methods=("POST",), roles=AGENTS)
def start_shift(call: Call) -> Any:
    from chalicelib.services.field_work.shifts import start_shift as start

    _require_agent_id(call)
    return json_response(start(call.caller, call.body), 201)


@endpoint(field_work, "/v1/shifts/end", methods=("POST",), roles=AGENTS)
def end_shift(call: Call) -> Any:
    from chalicelib.services.field_work.shifts import end_shift as end

    _require_agent_id(call)
    return end(call.caller)


@endpoint(field_work, "/v1/calls", methods=("POST",), roles=AGENTS)
def upload_calls(call: Call) -> Any:
    from chalicelib.services.field_work.calls import upload_calls as upload

    _require_agent_id(call)
    return upload(call.caller, call.body)


@endpoint(field_work, "/v1/agents/{agent_id}/shifts", roles=("admin",))
def agent_shifts(call: Call, agent_id: str) -> Any:
    from chalicelib.services.field_work.agents import agent_shifts as shifts
    from chalicelib.services.pagination import parse_limit

    return shifts(call.caller, agent_id, parse_limit(call.query.get("limit")))


@endpoint(field_work, "/v1/agents/{agent_id}/calls", roles=("admin",))
def agent_calls(call: Call, agent_id: str) -> Any:
    from chalicelib.services.field_work.agents import agent_calls as calls
    from chalicelib.services.pagination import parse_limit

    return calls(call.caller, agent_id, parse_limit(call.query.get("limit")), call.query.get("cursor"))
