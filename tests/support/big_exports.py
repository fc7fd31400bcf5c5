"""A person with more calls than one DynamoDB item can hold as an export, and their export's items (for tests)."""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from tests.support.http import bearer, body_of

# 5000 calls with incompressible ids: about 1.7 MB of JSON, about 500 KB compressed (past 400 KB).
MANY_CALLS = 5000


def give_calls(lead_id: str, count: int, first: datetime) -> list[str]:
    """Store ``count`` calls of the lead straight into the calls table; returns their ids, oldest first."""
    from chalicelib.store import field_work, leads
    from chalicelib.store.batch import write_all

    lead = leads.get(lead_id)
    assert lead is not None
    key = leads.key_of(lead)
    ids = [f"{n:05d}-{secrets.token_urlsafe(90)}" for n in range(count)]
    calls = [field_work.new_call(key, "asha", call_id, "+919845040001", direction="outgoing", status="answered",
                                 started_at=first + timedelta(seconds=n), duration_s=n % 600,
                                 stored_at=first + timedelta(days=1), expires_at=first + timedelta(days=900))
             for n, call_id in enumerate(ids)]
    write_all(calls)
    return ids


def file_access(client: Any, admin: dict[str, Any], phone: str) -> str:
    response = client.http.post("/v1/privacy-requests", body=json.dumps({"type": "access", "phone": phone,
                                                                         "verified_by_admin": True}),
                                headers=bearer(admin, **{"Content-Type": "application/json"}))
    assert response.status_code == 202, response.body
    return str(body_of(response)["request_id"])


def export_items(request_id: str) -> dict[str, dict[str, Any]]:
    """Every item of the request's export (manifest and parts, written by any run), unparsed, by key."""
    from tests.support.tables import scan_everything

    prefix = f"export#{request_id}"
    return {item["request_id"]["S"]: item for name, items in scan_everything().items()
            if name.endswith("privacy_requests") for item in items if item["request_id"]["S"].startswith(prefix)}


def item_bytes(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB counts it, near enough: names and values."""
    size = 0
    for name, value in item.items():
        (_kind, raw), = value.items()
        size += len(name) + (len(raw) if isinstance(raw, bytes | bytearray) else len(str(raw)))
    return size
