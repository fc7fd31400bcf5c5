"""Small HTTP helpers for the Chalice test client and real HTTP."""

from __future__ import annotations

import json
from typing import Any


def bearer(answer: dict[str, Any], **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {answer['api_key']}", **headers}


def body_of(response: Any) -> Any:
    return json.loads(response.body)


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The response is the contract's error shape with this status and code."""
    assert response.status_code == status, (response.status_code, response.body)
    body = body_of(response)
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert "Traceback" not in response.body.decode()
    return body["error"]


def contract_error(response: Any) -> bool:
    """Whether the body is the contract's error shape (``{"error": {"code", "message"}}``), without asserting."""
    try:
        body = body_of(response)
    except ValueError:
        return False
    error = body.get("error") if isinstance(body, dict) else None
    return set(body) == {"error"} and isinstance(error, dict) and isinstance(error.get("code"), str) \
        and isinstance(error.get("message"), str)
