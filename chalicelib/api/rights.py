"""People's rights: consents, the preferences link, privacy requests."""

from __future__ import annotations

from typing import Any

from chalicelib.api.endpoint import ApiBlueprint, Call, endpoint, json_response
from chalicelib.api.operations import ADMINS, FORMS, Operation
from chalicelib.errors import UsePostLookup

rights = ApiBlueprint(__name__)

LINK_HEADER = "x-preferences-token"  # where GET /v1/preferences takes the signed link's token


@endpoint(rights, Operation(
    "POST /v1/consents", "recordConsent", "Record consent choices (append-only)", FORMS,
    "chalicelib.api.responses.rights:ConsentRecorded", status=201,
    request="chalicelib.services.rights.consents:ConsentInput", errors=(429,), browser=True))
def post_consent(call: Call) -> Any:
    from chalicelib.services.rights.consents import record_consent

    return json_response(record_consent(call.caller, call.body, call.source_ip), 201)


# Retired: identifiers do not go in URLs. It only answers 400 use_post_lookup, naming the route below.
@endpoint(rights, Operation(
    "GET /v1/consents", "getConsents", "Retired: always 400 use_post_lookup; use POST /v1/consents/lookup", ADMINS,
    None, status=400, errors=(400,), query=("email", "phone", "visitor_id")))
def get_consents(call: Call) -> Any:
    """Retired: identifiers in a query string land in gateway, CDN and access logs."""
    raise UsePostLookup("Send identifiers in the body of POST /v1/consents/lookup; they must not appear in URLs.")


LOOKUP = Operation(
    "POST /v1/consents/lookup", "lookupConsents", "Consent state and history of one person", ADMINS,
    "chalicelib.api.responses.rights:ConsentReport", request="chalicelib.services.rights.consents:ConsentLookup",
    replay="service")


@endpoint(rights, LOOKUP)
def lookup_consents(call: Call) -> Any:
    from chalicelib.services import idempotency
    from chalicelib.services.rights.consents import consent_report

    # A read: an Idempotency-Key is checked like on any POST, but no copy of the report is kept to replay.
    idempotency.idempotency_key(call.caller.tenant_id, call.caller.key_id, call.headers.get("idempotency-key"),
                                LOOKUP.route, call.body)
    return consent_report(call.caller, call.body)


@endpoint(rights, Operation(
    "GET /v1/preferences", "getPreferences",
    "Marketing choices behind a signed link, its token in a header (a query string is 400 use_post_lookup)", None,
    "chalicelib.api.responses.rights:Preferences", query=("X-Preferences-Token",), errors=(400, 401)))
def get_preferences(call: Call) -> Any:
    from chalicelib.services.rights import preferences

    if call.query:
        raise UsePostLookup("Send the token in the body of POST /v1/preferences/read, or in the X-Preferences-Token "
                          "header of this GET; it must not appear in URLs.")
    return preferences.get_preferences(call.headers.get(LINK_HEADER))


@endpoint(rights, Operation(
    "POST /v1/preferences/read", "readPreferences", "Marketing choices behind a signed link", None,
    "chalicelib.api.responses.rights:Preferences",
    request="chalicelib.services.rights.preferences:PreferencesReadInput", errors=(401,)))
def read_preferences(call: Call) -> Any:
    from chalicelib.services.rights import preferences

    return preferences.read_preferences(call.body)


@endpoint(rights, Operation(
    "POST /v1/preferences", "setPreferences", "Change marketing choices behind a signed link", None,
    "chalicelib.api.responses.rights:Preferences", request="chalicelib.services.rights.preferences:PreferencesInput",
    errors=(401,)))
def post_preferences(call: Call) -> Any:
    from chalicelib.services.rights.preferences import set_preferences

    return set_preferences(call.body, call.source_ip)


@endpoint(rights, Operation(
    "POST /v1/privacy-requests", "fileRequest", "File an access or erasure request", FORMS,
    "chalicelib.api.responses.rights:RequestFiled", status=202,
    request="chalicelib.services.rights.requests:RequestInput", produces=("request_id",), errors=(429,), browser=True))
def post_privacy_request(call: Call) -> Any:
    from chalicelib.services.rights.requests import file_request

    return json_response(file_request(call.caller, call.body, call.source_ip), 202)


@endpoint(rights, Operation(
    "POST /v1/privacy-requests/{request_id}/verify", "verifyRequest", "Verify with the one-time code", FORMS,
    "chalicelib.api.responses.rights:RequestState", request="chalicelib.services.rights.requests:VerifyInput",
    errors=(410, 429), browser=True))
def verify_privacy_request(call: Call, request_id: str) -> Any:
    from chalicelib.services.rights.requests import verify

    return verify(call.caller, request_id, call.body)


@endpoint(rights, Operation(
    "GET /v1/privacy-requests/{request_id}", "getRequest", "A request's status and receipt", FORMS,
    "chalicelib.api.responses.rights:RequestView", browser=True))
def get_privacy_request(call: Call, request_id: str) -> Any:
    from chalicelib.services.rights.requests import get_request

    return get_request(call.caller, request_id)


@endpoint(rights, Operation(
    "GET /v1/privacy-requests/{request_id}/export", "getExport",
    "A completed access request's export (seven days): admins, or the filing widget key with the X-Download-Token "
    "of the link sent to the person; 409 export_not_ready (with Retry-After) until the request is completed",
    FORMS, "chalicelib.api.responses.rights:Export", query=("X-Download-Token",), errors=(401, 409, 410),
    browser=True))
def get_privacy_export(call: Call, request_id: str) -> Any:
    from chalicelib.services.rights.requests import get_export

    return get_export(call.caller, request_id, call.headers.get("x-download-token"))


@endpoint(rights, Operation(
    "POST /v1/privacy-requests/{request_id}/download", "downloadExport",
    "The export behind the single-use download link sent to the person (no key)", None,
    "chalicelib.api.responses.rights:Export", request="chalicelib.services.rights.requests:DownloadInput",
    errors=(401,)))
def download_privacy_export(call: Call, request_id: str) -> Any:
    from chalicelib.services.rights.requests import download

    return download(request_id, call.body)


@endpoint(rights, Operation(
    "POST /v1/confirmations", "confirm",
    "Follow a confirmation link: marketing grants (double opt-in) or new contact details (no key)", None,
    "chalicelib.api.responses.rights:Confirmed", request="chalicelib.services.rights.confirmations:ConfirmInput",
    errors=(401, 409)))
def post_confirmation(call: Call) -> Any:
    from chalicelib.services.rights.confirmations import confirm

    return confirm(call.body, call.source_ip)
