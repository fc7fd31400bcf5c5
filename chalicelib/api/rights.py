"""People's rights: consents, the preferences link, privacy requests."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.endpoint import Call, endpoint, json_response

rights = Blueprint(__name__)

PUBLIC_FORMS = ("widget", "admin")


@endpoint(rights, "/v1/consents", methods=("POST",), roles=PUBLIC_FORMS)
def post_consent(call: Call) -> Any:
    from chalicelib.services.consents import record_consent

    return json_response(record_consent(call.caller, call.body, call.source_ip), 201)


@endpoint(rights, "/v1/consents", roles=("admin",))
def get_consents(call: Call) -> Any:
    from chalicelib.services.consents import consent_report

    return consent_report(call.caller, call.query)


@endpoint(rights, "/v1/preferences", roles=None)
def get_preferences(call: Call) -> Any:
    from chalicelib.services.preferences import get_preferences as read

    return read(call.query)


@endpoint(rights, "/v1/preferences", methods=("POST",), roles=None)
def post_preferences(call: Call) -> Any:
    from chalicelib.services.preferences import set_preferences

    return set_preferences(call.body, call.source_ip)


@endpoint(rights, "/v1/privacy-requests", methods=("POST",), roles=PUBLIC_FORMS)
def post_privacy_request(call: Call) -> Any:
    from chalicelib.services.privacy.requests import file_request

    return json_response(file_request(call.caller, call.body), 202)


@endpoint(rights, "/v1/privacy-requests/{request_id}/verify", methods=("POST",), roles=PUBLIC_FORMS)
def verify_privacy_request(call: Call, request_id: str) -> Any:
    from chalicelib.services.privacy.requests import verify

    return verify(call.caller, request_id, call.body)


@endpoint(rights, "/v1/privacy-requests/{request_id}", roles=PUBLIC_FORMS)
def get_privacy_request(call: Call, request_id: str) -> Any:
    from chalicelib.services.privacy.requests import get_request

    return get_request(call.caller, request_id)


@endpoint(rights, "/v1/privacy-requests/{request_id}/export", roles=PUBLIC_FORMS)
def get_privacy_export(call: Call, request_id: str) -> Any:
    from chalicelib.services.privacy.requests import get_export

    return get_export(call.caller, request_id)
