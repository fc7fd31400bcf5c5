"""Shift and call helpers for tests."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from chalicelib import clock


def at(base: datetime, **delta: float) -> str:
    return clock.iso(base + timedelta(**delta))


def post(client: Any, key: dict[str, Any], path: str, body: Any = None, **headers: str) -> Any:
    raw = json.dumps(body if body is not None else {})
    return client.http.post(path, body=raw, headers={"Authorization": f"Bearer {key['api_key']}",
                                                     "Content-Type": "application/json", **headers})


def call_event(event_id: str, number: str, started_at: str, **overrides: Any) -> dict[str, Any]:
    event = {"client_event_id": event_id, "number": number, "direction": "outgoing", "status": "answered",
             "started_at": started_at, "duration_s": 42}
    event.update(overrides)
    return event
