"""Policy routes: the version in force, acceptance, and users' in-app notices."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.endpoint import Call, endpoint, json_response

policies = Blueprint(__name__)

USERS = ("agent", "admin")


@endpoint(policies, "/v1/policies/current")
def get_current_policy(call: Call) -> Any:
    from chalicelib.services.policies.publishing import current_policy

    return current_policy(call.caller)


@endpoint(policies, "/v1/policies/{version}/accept", methods=("POST",), roles=USERS)
def accept_policy(call: Call, version: str) -> Any:
    from chalicelib.services.policies.publishing import accept_policy as accept

    return json_response(accept(call.caller, version), 201)


@endpoint(policies, "/v1/notifications", roles=USERS)
def get_notifications(call: Call) -> Any:
    from chalicelib.services.pagination import parse_limit
    from chalicelib.services.policies.publishing import notifications

    return notifications(call.caller, parse_limit(call.query.get("limit")), call.query.get("cursor"))
