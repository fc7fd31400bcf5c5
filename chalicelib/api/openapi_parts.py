"""Shared pieces of the OpenAPI document: parameters, headers, the key scheme, what each error status means."""

from __future__ import annotations

from typing import Any

from chalicelib.services.pagination import MAX_LIMIT

# name -> (parameter, whether a bad value is a 400)
QUERY: dict[str, tuple[dict[str, Any], bool]] = {
    "limit": ({"name": "limit", "in": "query", "required": False, "description": "Page size",
               "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 50}}, True),
    "cursor": ({"name": "cursor", "in": "query", "required": False,
                "description": "The next_cursor of the previous page, as given",
                "schema": {"type": "string", "maxLength": 2048}}, True),
    "email": ({"name": "email", "in": "query", "required": False,
               "description": "Exactly one of email, phone and visitor_id", "schema": {"type": "string"}}, True),
    "phone": ({"name": "phone", "in": "query", "required": False,
               "description": "Exactly one of email, phone and visitor_id", "schema": {"type": "string"}}, True),
    "visitor_id": ({"name": "visitor_id", "in": "query", "required": False,
                    "description": "Exactly one of email, phone and visitor_id",
                    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$"}}, True),
    "token": ({"name": "token", "in": "query", "required": True,
               "description": "The signed, expiring token of a preferences link", "schema": {"type": "string"}},
              False),
}

IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "The same key with the same body replays the first answer; with another body it is a 409.",
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
         "(undeclared_field, special_category, minor, consent_required, invalid_code)",
    401: "unauthorized: the key (or the signed link) is missing, unknown, expired or revoked",
    403: "forbidden: this role may not do this, or a widget key is used from an origin it is not allowed",
    404: "not_found: no such object for this caller (also any object of another tenant)",
    409: "A conflict: idempotency_conflict (the Idempotency-Key came with another body) or this route's own",
    410: "gone: the code or the export has expired",
    413: "payload_too_large: the body is over 64 KiB",
    415: "unsupported_media_type: a Content-Type other than application/json",
    429: "Too many attempts (verification_locked)",
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
