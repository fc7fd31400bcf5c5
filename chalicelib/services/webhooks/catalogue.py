"""The events a subscription may ask for, and the one shape every event is sent in.

An event names what changed by ids, types, times and field names, never personal data: a receiver
that needs a lead reads it with its own key. ``webhook.test`` is sent by its route; every other type is
written by the event log with its change and delivered from the log's stream (services/webhooks/stream.py).
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from chalicelib import clock

TEST = "webhook.test"
EVENT_TYPES = (
    "lead.created", "lead.merged", "lead.updated", "call.stored", "consent.changed",
    "privacy.request_completed", "lead.erased", "policy.published", TEST,
)
EMITTED = frozenset(EVENT_TYPES)  # types some code path sends today
EVENT_ID_PREFIX = "evt_"


def new_event_id() -> str:
    return EVENT_ID_PREFIX + secrets.token_hex(16)


def event_body(event_id: str, event_type: str, created_at: datetime, tenant_id: str, data: dict[str, Any]) -> str:
    """The JSON text sent (and kept on the delivery, so a redelivery sends the same bytes)."""
    return json.dumps({"id": event_id, "type": event_type, "created_at": clock.iso(created_at),
                       "tenant_id": tenant_id, "data": data}, separators=(",", ":"), sort_keys=True)
