"""Policy routes: the version in force, acceptance, and users' in-app notices."""

from __future__ import annotations

from typing import Any

from chalicelib.api.endpoint import ApiBlueprint, Call, endpoint, json_response
from chalicelib.api.operations import ANY_KEY, PAGED, STAFF, Operation

policies = ApiBlueprint(__name__)


@endpoint(policies, Operation(
    "GET /v1/policies/current", "getCurrentPolicy", "The policy version in force", ANY_KEY,
    "chalicelib.api.responses.policies:PolicyView", errors=(404,), browser=True))
def get_current_policy(call: Call) -> Any:
    from chalicelib.services.policies.publishing import current_policy

    return current_policy(call.caller)


@endpoint(policies, Operation(
    "POST /v1/policies/{version}/accept", "acceptPolicy", "Accept a policy version", STAFF,
    "chalicelib.api.responses.policies:Acceptance", status=201))
def accept_policy(call: Call, version: str) -> Any:
    from chalicelib.services.policies import publishing

    return json_response(publishing.accept_policy(call.caller, version), 201)


@endpoint(policies, Operation(
    "GET /v1/notifications", "listNotifications", "The caller's in-app notices, newest first", STAFF,
    "chalicelib.api.responses.policies:NoticePage", query=PAGED))
def get_notifications(call: Call) -> Any:
    from chalicelib.services.pagination import parse_limit
    from chalicelib.services.policies.publishing import notifications

    return notifications(call.caller, parse_limit(call.query.get("limit")), call.query.get("cursor"))
