"""``Idempotency-Key``: the same key and body replay the first answer; another body is a 409.

Keys are scoped to the API key that sent them. The body is compared through an HMAC under the
tenant's secret, since bodies hold personal data and a plain hash of a phone number is not safe.
Where and how the answers are kept is :mod:`chalicelib.store.idempotency`'s business.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from chalicelib import clock
from chalicelib.errors import IdempotencyConflict, ValidationFailed
from chalicelib.services.tenants.tenancy import Tenant, require_tenant
from chalicelib.store import changes
from chalicelib.store.idempotency import StoredAnswer, get, new_answer, record_key
from chalicelib.vault.blind_index import blind_index

KEEP_HOURS = 24
_KEY_SHAPE = re.compile(r"^[\x21-\x7e]{1,255}$")


@dataclass(frozen=True)
class IdempotencyKey:
    pk: str
    digest: str


def idempotency_key(
    tenant: Tenant | str, key_id: str, header: str | None, route: str, body: dict[str, Any]
) -> IdempotencyKey | None:
    """The record key and body digest of a request, or None when it carries no key.

    ``tenant`` is the caller's tenant (an id is looked up in the invocation's cache).
    """
    if header is None:
        return None
    header = header.strip()
    if not _KEY_SHAPE.match(header):
        raise ValidationFailed(details=[{"field": "Idempotency-Key", "problem": "1 to 255 visible ASCII characters"}])
    if isinstance(tenant, str):
        tenant = require_tenant(tenant)
    canonical = json.dumps({"route": route, "body": body}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return IdempotencyKey(
        pk=record_key(tenant.tenant_id, key_id, header),
        digest=blind_index(tenant, "request-body", canonical),
    )


def replay(key: IdempotencyKey, existing: StoredAnswer | None) -> tuple[int, dict[str, Any]] | None:
    """The first answer to replay, or None if this key is new (or its record has expired)."""
    if existing is None or (existing.expires_at and existing.expires_at <= clock.now()):
        return None
    if existing.body_digest != key.digest:
        raise IdempotencyConflict()
    return int(existing.status), json.loads(existing.response)


def record(key: IdempotencyKey, status: int, body: dict[str, Any], lead_id: str | None = None) -> StoredAnswer:
    """An (unsaved) record of the answer; callers batch it with their own writes."""
    return new_answer(key.pk, body_digest=key.digest, status=status, response=json.dumps(body, separators=(",", ":")),
                      lead_id=lead_id, expires_at=clock.now() + timedelta(hours=KEEP_HOURS))


def remember(key: IdempotencyKey, status: int, body: dict[str, Any]) -> None:
    """Keep the answer on its own, for a route whose use case has no batch to put it in."""
    changes.save(record(key, status, body))


def lookup(key: IdempotencyKey) -> tuple[int, dict[str, Any]] | None:
    """Read the record of ``key`` (one consistent read) and decide whether to replay."""
    return replay(key, get(key.pk))
