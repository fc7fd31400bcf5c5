"""The idempotency repository: the first answer to a request, kept under the key the client sent.

A record's key is scoped to the tenant and the API key that sent it, and holds only a hash of
the client's ``Idempotency-Key`` (clients sometimes put meaningful text there). Records live in
``unique_keys`` beside the identity claims, so intake reads both in one consistent batch.
"""

from __future__ import annotations

from base64 import urlsafe_b64encode
from datetime import datetime
from hashlib import sha256

from chalicelib.store.models.claims import IdempotencyRecord

# What services hold: a stored answer as read (attributes to read, never to set).
StoredAnswer = IdempotencyRecord


def record_key(tenant_id: str, key_id: str, header: str) -> str:
    """Where the answer to requests with this ``Idempotency-Key`` from this API key is kept."""
    hashed = urlsafe_b64encode(sha256(header.encode()).digest()).decode().rstrip("=")
    return f"{tenant_id}#idem#{key_id}#{hashed}"


def new_answer(pk: str, *, body_digest: str, status: int, response: str, lead_id: str | None,
               expires_at: datetime) -> StoredAnswer:
    """An unsaved record of an answer; callers batch it with the writes that answer is about."""
    return IdempotencyRecord(pk, body_digest=body_digest, status=status, response=response, lead_id=lead_id,
                             expires_at=expires_at)


def get(pk: str) -> StoredAnswer | None:
    """The stored answer (one strongly consistent read), expired or not; None when there is none."""
    try:
        return IdempotencyRecord.get(pk, consistent_read=True)
    except IdempotencyRecord.DoesNotExist:
        return None
