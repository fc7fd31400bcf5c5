"""People's rights: consents, the preferences link, privacy requests."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.endpoint import Call, endpoint, json_response
from chalicelib.errors import ValidationFailed

rights = Blueprint(__name__)

PUBLIC_FORMS = ("widget", "admin")
USE_POST_LOOKUP = "use_post_lookup"  # identifiers or a token sent in a query string
LINK_HEADER = "x-preferences-token"  # where GET /v1/preferences takes the signed link's token


@endpoint(rights, "/v1/consents", methods=("POST",), roles=PUBLIC_FORMS)
def post_consent(call: Call) -> Any:
    from chalicelib.services.rights.consents import record_consent

    return json_response(record_consent(call.caller, call.body, call.source_ip), 201)


def _not_in_url(message: str) -> ValidationFailed:
    """The answer to identifiers or a token in a query string: where to send them instead, never their value."""
    return ValidationFailed(message, code=USE_POST_LOOKUP)


@endpoint(rights, "/v1/consents", roles=("admin",))
def get_consents(call: Call) -> Any:
    """Retired: identifiers in a query string land in gateway, CDN and access logs."""
    raise _not_in_url("Send identifiers in the body of POST /v1/consents/lookup; they must not appear in URLs.")


@endpoint(rights, "/v1/consents/lookup", methods=("POST",), roles=("admin",), replay="service")
def lookup_consents(call: Call) -> Any:
    from chalicelib.services import idempotency
    from chalicelib.services.rights.consents import consent_report

    # A read: an Idempotency-Key is checked like on any POST, but no copy of the report is kept to replay.
    idempotency.idempotency_key(call.caller.tenant_id, call.caller.key_id, call.headers.get("idempotency-key"),
                                "POST /v1/consents/lookup", call.body)
    return consent_report(call.caller, call.body)


@endpoint(rights, "/v1/preferences", roles=None)
def get_preferences(call: Call) -> Any:
    from chalicelib.services.rights.preferences import get_preferences as read

    if call.query:
        raise _not_in_url("Send the token in the body of POST /v1/preferences/read, or in the X-Preferences-Token "
                          "header of this GET; it must not appear in URLs.")
    return read(call.headers.get(LINK_HEADER))


@endpoint(rights, "/v1/preferences/read", methods=("POST",), roles=None)
def read_preferences(call: Call) -> Any:
    from chalicelib.services.rights.preferences import read_preferences as read

    return read(call.body)


@endpoint(rights, "/v1/preferences", methods=("POST",), roles=None)
def post_preferences(call: Call) -> Any:
    from chalicelib.services.rights.preferences import set_preferences

    return set_preferences(call.body, call.source_ip)


@endpoint(rights, "/v1/privacy-requests", methods=("POST",), roles=PUBLIC_FORMS)
def post_privacy_request(call: Call) -> Any:
    from chalicelib.services.rights.requests import file_request

    return json_response(file_request(call.caller, call.body, call.source_ip), 202)


@endpoint(rights, "/v1/privacy-requests/{request_id}/verify", methods=("POST",), roles=PUBLIC_FORMS)
def verify_privacy_request(call: Call, request_id: str) -> Any:
    from chalicelib.services.rights.requests import verify

    return verify(call.caller, request_id, call.body)


@endpoint(rights, "/v1/privacy-requests/{request_id}", roles=PUBLIC_FORMS)
def get_privacy_request(call: Call, request_id: str) -> Any:
    from chalicelib.services.rights.requests import get_request

    return get_request(call.caller, request_id)


@endpoint(rights, "/v1/privacy-requests/{request_id}/export", roles=PUBLIC_FORMS)
def get_privacy_export(call: Call, request_id: str) -> Any:
    from chalicelib.services.rights.requests import get_export

    return get_export(call.caller, request_id, call.headers.get("x-download-token"))


@endpoint(rights, "/v1/privacy-requests/{request_id}/download", methods=("POST",), roles=None)
def download_privacy_export(call: Call, request_id: str) -> Any:
    from chalicelib.services.rights.requests import download

    return download(request_id, call.body)


@endpoint(rights, "/v1/confirmations", methods=("POST",), roles=None)
def post_confirmation(call: Call) -> Any:
    from chalicelib.services.rights.confirmations import confirm

    return confirm(call.body, call.source_ip)
