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
