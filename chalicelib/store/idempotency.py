"""The idempotency repository: a request's claim on its key, then its first answer, kept under that key.

A record is claimed before the work (``in_progress``, held by an owner token until a lease ends),
then completed with the answer (``done``). A record's key is scoped to the tenant and the API key
that sent it, and holds only a hash of the client's ``Idempotency-Key`` (clients sometimes put
meaningful text there). Records live in ``unique_keys`` beside the identity claims.
"""

from __future__ import annotations

from base64 import urlsafe_b64encode
from datetime import datetime
from hashlib import sha256

from chalicelib.store.conditional import applied
from chalicelib.store.models.claims import IdempotencyRecord

# What services hold: a stored answer as read (attributes to read, never to set).
StoredAnswer = IdempotencyRecord
IN_PROGRESS = "in_progress"
DONE = "done"


def record_key(tenant_id: str, key_id: str, header: str) -> str:
    """Where the answer to requests with this ``Idempotency-Key`` from this API key is kept."""
    hashed = urlsafe_b64encode(sha256(header.encode()).digest()).decode().rstrip("=")
    return f"{tenant_id}#idem#{key_id}#{hashed}"


def claim(pk: str, *, body_digest: str, owner: str, now: datetime, lease_until: datetime,
          expires_at: datetime) -> StoredAnswer | None:
    """Hold the key for one request; None when it is ours now, else the record that holds it.

    The key is free when there is no record, when its record has expired (TTL deletes lazily), or
    when an unfinished claim's lease has ended (its request died). A refusal of our own claim,
    applied once already and retried by the SDK, is ours: the owner token read back says so.
    """
    record = IdempotencyRecord(pk, body_digest=body_digest, state=IN_PROGRESS, owner=owner,
                               lease_until=lease_until, expires_at=expires_at)
    free = (IdempotencyRecord.pk.does_not_exist() | (IdempotencyRecord.expires_at < now)
            | ((IdempotencyRecord.state == IN_PROGRESS) & (IdempotencyRecord.lease_until < now)))
    holder: list[StoredAnswer] = []

    def mine() -> bool:
        stored = get(pk)
        if stored is not None and stored.owner == owner:
            return True
        holder.extend([stored] if stored is not None else [])
        return False

    if applied(record.save, mine=mine, condition=free):
        return None
    if not holder:  # gone between the refusal and the read (its TTL ran out): try once more
        return claim(pk, body_digest=body_digest, owner=owner, now=now, lease_until=lease_until,
                     expires_at=expires_at)
    return holder[0]


def completed(pk: str, *, body_digest: str, owner: str, status: int, response: str, lead_id: str | None,
              expires_at: datetime) -> StoredAnswer:
    """The claim turned into its answer: an unsaved record, to save alone or with the writes it answers.

    Written without a condition: only the owner completes, and its lease outlasts any run of its request.
    """
    return IdempotencyRecord(pk, body_digest=body_digest, state=DONE, owner=owner, status=status,
                             response=response, lead_id=lead_id, expires_at=expires_at)


def release(pk: str, owner: str) -> None:
    """Give the key back (the request failed before its work was done) if this owner still holds it."""
    applied(IdempotencyRecord(pk).delete,
            condition=(IdempotencyRecord.owner == owner) & (IdempotencyRecord.state == IN_PROGRESS))


def get(pk: str) -> StoredAnswer | None:
    """The stored record (one strongly consistent read), expired or not; None when there is none."""
    try:
        return IdempotencyRecord.get(pk, consistent_read=True)
    except IdempotencyRecord.DoesNotExist:
        return None
