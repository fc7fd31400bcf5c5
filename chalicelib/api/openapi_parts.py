"""Shared pieces of the OpenAPI document: parameters, headers, the key scheme, what each error status means."""

from __future__ import annotations

from typing import Any

from chalicelib.services.pagination import MAX_LIMIT

# name -> (parameter, whether a bad value is a 400): the query parameters, and the one header parameter
QUERY: dict[str, tuple[dict[str, Any], bool]] = {
    "limit": ({"name": "limit", "in": "query", "required": False, "description": "Page size",
               "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 50}}, True),
    "cursor": ({"name": "cursor", "in": "query", "required": False,
                "description": "The next_cursor of the previous page, as given",
                "schema": {"type": "string", "maxLength": 2048}}, True),
    # The lead list's and export's filters (chalicelib/services/leads/listing.py).
    "stage": ({"name": "stage", "in": "query", "required": False, "description": "Only leads at this stage",
               "schema": {"type": "string", "enum": ["new", "contacted", "qualified", "won", "lost"]}}, True),
    "agent_id": ({"name": "agent_id", "in": "query", "required": False,
                  "description": "Only leads assigned to this agent (agents: only their own id)",
                  "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}}, True),
    "source": ({"name": "source", "in": "query", "required": False, "description": "Only leads from this source",
                "schema": {"type": "string", "pattern": "^[a-z0-9_\\-]{1,40}$"}}, True),
    **{name: ({"name": name, "in": "query", "required": False,
               "description": f"Created {word} (inclusive): a date YYYY-MM-DD (the whole day, UTC) or an ISO 8601 time",
               "schema": {"type": "string", "maxLength": 40}, "example": "2026-11-01"}, True)
       for name, word in (("created_from", "on or after"), ("created_to", "on or before"))},
    # Retired before it was born: a phone or e-mail in a URL is 400 use_post_lookup (search is POST /v1/leads/search).
    "q": ({"name": "q", "in": "query", "required": False, "deprecated": True,
           "description": "Refused (400 use_post_lookup): send it in the body of POST /v1/leads/search",
           "schema": {"type": "string"}}, True),
    "status": ({"name": "status", "in": "query", "required": False,
                "description": "Only grievances in this status (open: waiting for an answer)",
                "schema": {"type": "string", "enum": ["open", "answered"]}}, True),
    # The admin reports' filters (chalicelib/api/reports.py).
    "request_status": ({"name": "status", "in": "query", "required": False,
                        "description": "Only requests in this status (open, the default: every request with work "
                                       "left, most urgent first)",
                        "schema": {"type": "string", "default": "open",
                                   "enum": ["open", "pending_verification", "verified", "in_progress", "completed",
                                            "rejected", "expired"]}}, True),
    **{name: ({"name": name, "in": "query", "required": False, "description": f"{word} day (UTC, inclusive)",
               "schema": {"type": "string", "format": "date"}, "example": "2026-11-01"}, True)
       for name, word in (("from", "The first"), ("to", "The last"))},
    "actor": ({"name": "actor", "in": "query", "required": False,
               "description": "Only records of this actor: a key id (or operator)",
               "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,64}$"}}, True),
    "action": ({"name": "action", "in": "query", "required": False,
                "description": "Only records of this action, like lead.read",
                "schema": {"type": "string", "maxLength": 64, "pattern": "^[a-z][a-z0-9_]*(\\.[a-z0-9_]+)*$"}}, True),
    # Retired: identifiers in a URL are refused with 400 use_post_lookup (documented so clients learn where they go).
    **{name: ({"name": name, "in": "query", "required": False, "deprecated": True,
               "description": "Refused (400 use_post_lookup): send it in the body of POST /v1/consents/lookup",
               "schema": {"type": "string"}}, True) for name in ("email", "phone", "visitor_id")},
    # Not a query parameter: tokens and identifiers never go in URLs (a query string is 400 use_post_lookup).
    "X-Preferences-Token": ({"name": "X-Preferences-Token", "in": "header", "required": True,
                             "description": "The signed, expiring token of a preferences link",
                             "schema": {"type": "string"}}, False),
    "X-Download-Token": ({"name": "X-Download-Token", "in": "header", "required": False,
                          "description": "The token of the download link sent to the person (widget keys need it)",
                          "schema": {"type": "string"}}, False),
}

IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "The same key with the same body replays the first answer; with another body it is a 409 "
                   "idempotency_conflict; while the first request with it is still being processed, a 409 "
                   "request_in_progress with Retry-After. A request refused (4xx) or failed (5xx) frees its key.",
    "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"},
}

HEADERS = {"CacheControl": {"description": "Answers are never cached", "required": True,
                            "schema": {"type": "string", "const": "no-store"}}}

SECURITY_SCHEMES = {"apiKey": {
    "type": "http", "scheme": "bearer", "bearerFormat": "lv.<tenant_id>.<key_id>.<secret>",
    "description": "An API key of a role: widget (web forms; may be limited to allowed origins, checked against "
                   "the Origin header), agent (one field agent's app) or admin (everything in one tenant). "
                   "Each operation names the roles it takes in x-roles.",
}}

ERRORS = {
    400: "invalid_json, validation_error (details name the fields), or a code of this route "
         "(undeclared_field, special_category, minor, consent_required, invalid_code, use_post_lookup: "
         "identifiers or a token in a query string)",
    401: "unauthorized: the key (or the signed link) is missing, unknown, expired or revoked",
    403: "forbidden: this role may not do this, or a widget key is used from an origin it is not allowed",
    404: "not_found: no such object for this caller (also any object of another tenant)",
    409: "A conflict: idempotency_conflict (the Idempotency-Key came with another body), request_in_progress "
         "(a retry while the first request with that key is still processed; Retry-After says when to retry) "
         "or this route's own",
    410: "gone: the code or the export has expired",
    413: "payload_too_large: the body is over 64 KiB",
    415: "unsupported_media_type: a Content-Type other than application/json",
    429: "rate_limited: a budget of the public key, the tenant, the client or the address is spent (the "
         "Retry-After header says in how many seconds to try again; nothing was stored or sent), or "
         "verification_locked: too many wrong codes",
}


def implied_errors(path: str, method: str, roles: tuple[str, ...] | None, query: tuple[str, ...]) -> set[int]:
    """Error statuses that follow from how a route is reached: its key, body, path and query."""
    statuses = {415}  # Chalice refuses any request whose Content-Type is not JSON
    if roles:
        statuses |= {401, 403}
    if method in ("post", "put", "patch"):
        statuses |= {400, 413}
    if method == "post" and roles:
        statuses.add(409)
    if "{" in path:
        statuses.add(404)
    if any(QUERY[name][1] for name in query):
        statuses.add(400)
    return statuses
