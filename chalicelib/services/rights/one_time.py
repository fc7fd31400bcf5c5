"""Single-use tokens sent to a person: confirmation links and download links.

The token itself (128 random bits, short enough for an SMS) is only ever in the message; the
store keeps its SHA-256. Spending it is one conditional update that records a nonce, so a spend
whose answer was lost and retried is recognised as ours, while any second spend is refused.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from base64 import urlsafe_b64encode
from datetime import timedelta
from typing import Any

from chalicelib import clock
from chalicelib.errors import Unauthorized
from chalicelib.store import tokens
from chalicelib.store.tokens import Token

CONFIRM = "confirm"
DOWNLOAD = "download"
_MAX_TOKEN_LENGTH = 64


def _hash(token: str) -> str:
    return urlsafe_b64encode(hashlib.sha256(token.encode()).digest()).decode().rstrip("=")


def issue(tenant_id: str, purpose: str, target: dict[str, Any], lifetime: timedelta) -> tuple[str, Token]:
    """A new token and its (unsaved) record, so callers can batch it with their own writes."""
    token = secrets.token_urlsafe(16)
    return token, tokens.issue(_hash(token), tenant_id, purpose, _target_json(target), clock.now() + lifetime)


def spend(
    token: object, purpose: str, invalid: str = "The link is not valid or was already used.",
    expect: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``{"tenant_id", **target}`` of a live, unspent token of ``purpose``, now spent; else 401.

    With ``expect``, a token issued for another target is refused without being spent.
    """
    if not isinstance(token, str) or not 16 <= len(token) <= _MAX_TOKEN_LENGTH or not token.isascii():
        raise Unauthorized(invalid)
    record = tokens.spend(_hash(token), secrets.token_hex(8), purpose, clock.now(),
                          _target_json(expect) if expect is not None else None)
    if record is None:
        raise Unauthorized(invalid)
    return {"tenant_id": record.tenant_id, **json.loads(record.target)}


def _target_json(target: dict[str, Any]) -> str:
    return json.dumps(target, separators=(",", ":"), sort_keys=True)
