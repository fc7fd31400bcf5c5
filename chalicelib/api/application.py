"""The Chalice app class: every response, even one Chalice writes itself, has the contract's shape."""

from __future__ import annotations

import json
from typing import Any

from chalice import Chalice

from chalicelib.errors import MethodNotAllowed, UnsupportedMediaType, error_for_status

_CHALICE_CODES = {"MethodNotAllowedError": MethodNotAllowed, "UnsupportedMediaType": UnsupportedMediaType}


class LeadVaultChalice(Chalice):
    """Chalice, with its own ``{"Code", "Message"}`` errors rewritten into ``{"error": {...}}``."""

    def __call__(self, event: Any, context: Any) -> dict[str, Any]:
        response = super().__call__(event, context)
        return normalise_error_response(response)


def normalise_error_response(response: dict[str, Any]) -> dict[str, Any]:
    """Rewrite a framework error body; leave our own responses untouched."""
    status = int(response.get("statusCode", 200))
    if status < 400:
        return response
    try:
        body = json.loads(response.get("body") or "null")
    except (TypeError, ValueError):
        body = None
    if isinstance(body, dict) and "error" in body:
        return response
    chalice_code = body.get("Code") if isinstance(body, dict) else None
    error_class = _CHALICE_CODES.get(str(chalice_code))
    error = error_class() if error_class else error_for_status(status)
    headers = {k: v for k, v in (response.get("headers") or {}).items() if k.lower() != "content-type"}
    headers["Content-Type"] = "application/json"
    return {**response, "headers": headers, "body": json.dumps(error.to_body()), "isBase64Encoded": False}
