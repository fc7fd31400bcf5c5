"""Lead submissions for tests."""

from __future__ import annotations

import json
from typing import Any

from tests.support.people import EMAIL, NAME, PHONE

CONSENT = {"purposes": ["contact", "marketing_email"], "policy_version": "2026-11"}


def lead_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": NAME, "phone": PHONE, "email": EMAIL, "source": "web", "consent": CONSENT}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def post_lead(client: Any, key: dict[str, Any], body: dict[str, Any] | bytes, **headers: str) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body)
    all_headers = {"Authorization": f"Bearer {key['api_key']}", "Content-Type": "application/json", **headers}
    return client.http.post("/v1/leads", headers=all_headers, body=raw)
