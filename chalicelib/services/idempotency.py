"""``Idempotency-Key``: the same key and body replay the first answer; another body is a 409.

Keys are scoped to the API key that sent them. The body is compared through an HMAC under the
tenant's secret, since bodies hold personal data and a plain hash of a phone number is not safe.
"""

from __future__ import annotations

import json
import re
from base64 import urlsafe_b64encode
from dataclasses import dataclass
from datetime import timedelta
from hashlib import sha256
from typing import Any

from chalicelib import clock
from chalicelib.errors import IdempotencyConflict, ValidationFailed
from chalicelib.store.models.claims import IdempotencyRecord

KEEP_HOURS = 24
_KEY_SHAPE = re.compile(r"^[\x21-\x7e]{1,255}$")


@dataclass(frozen=True)
class IdempotencyKey:
    pk: str
    digest: str


def idempotency_key(
    tenant_id: str, key_id: str, header: str | None, route: str, body: dict[str, Any]
) -> IdempotencyKey | None:
    """The record key and body digest of a request, or None when it carries no key."""
    from chalicelib.vault.blind_index import blind_index

    if header is None:
        return None
    header = header.strip()
    if not _KEY_SHAPE.match(header):
        raise ValidationFailed(details=[{"field": "Idempotency-Key", "problem": "1 to 255 visible ASCII characters"}])
    canonical = json.dumps({"route": route, "body": body}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return IdempotencyKey(
        pk=f"{tenant_id}#idem#{key_id}#{urlsafe_b64encode(sha256(header.encode()).digest()).decode().rstrip('=')}",
        digest=blind_index(tenant_id, "request-body", canonical),
    )


def replay(key: IdempotencyKey, existing: IdempotencyRecord | None) -> tuple[int, dict[str, Any]] | None:
    """The first answer to replay, or None if this key is new (or its record has expired)."""
    if existing is None or (existing.expires_at and existing.expires_at <= clock.now()):
        return None
    if existing.body_digest != key.digest:
        raise IdempotencyConflict()
    return int(existing.status), json.loads(existing.response)


def record(key: IdempotencyKey, status: int, body: dict[str, Any], lead_id: str | None = None) -> IdempotencyRecord:
    """An (unsaved) record of the answer; callers batch it with their own writes."""
    return IdempotencyRecord(
        key.pk,
        body_digest=key.digest,
        status=status,
        response=json.dumps(body, separators=(",", ":")),
        lead_id=lead_id,
        expires_at=clock.now() + timedelta(hours=KEEP_HOURS),
    )


def lookup(key: IdempotencyKey) -> tuple[int, dict[str, Any]] | None:
    """Read the record of ``key`` (one consistent read) and decide whether to replay."""
    try:
        existing = IdempotencyRecord.get(key.pk, consistent_read=True)
    except IdempotencyRecord.DoesNotExist:
        existing = None
    return replay(key, existing)
