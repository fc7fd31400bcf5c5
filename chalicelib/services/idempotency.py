"""``Idempotency-Key``: claim the key first, then work, then complete with the answer.

The same key and body replay the first answer; another body is a 409 ``idempotency_conflict``;
a retry while the first request still works is a 409 ``request_in_progress`` with ``Retry-After``.
Claiming first (as Powertools' idempotency does) means two attempts of one request never both do
the work: a retry after a 5xx or a lost answer meets either the answer or the claim. A request that
is refused (4xx, nothing written) gives its claim back; one that fails (5xx) or dies holding it keeps
it until its lease ends (longer than any run of the function), then the next attempt works afresh.

Keys are scoped to the API key that sent them. The body is compared through an HMAC under the
tenant's secret, since bodies hold personal data and a plain hash of a phone number is not safe.
Where and how records are kept is :mod:`chalicelib.store.idempotency`'s business.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from hashlib import sha256
from typing import Any

from chalicelib import clock
from chalicelib.errors import IdempotencyConflict, LeadVaultError, RequestInProgress, ValidationFailed
from chalicelib.logs import get_logger
from chalicelib.services.tenants.tenancy import Tenant, require_tenant
from chalicelib.store import changes, idempotency
from chalicelib.store.idempotency import StoredAnswer
from chalicelib.vault.blind_index import blind_index

KEEP_HOURS = 24
# Longer than the API's Lambda timeout (29 s): a live request never loses its claim to a retry.
LEASE = timedelta(seconds=35)
# A retry during the work: the work takes a second or so, the lease is only for requests that died.
RETRY_AFTER_S = 1
COMPLETE_TRIES = 5
_KEY_SHAPE = re.compile(r"^[\x21-\x7e]{1,255}$")

Answer = tuple[int, dict[str, Any]]


@dataclass(frozen=True)
class IdempotencyKey:
    pk: str
    digest: str


@dataclass(frozen=True)
class Held:
    """A key this request holds (``owner`` is its token), or the first answer to replay instead."""

    key: IdempotencyKey
    owner: str
    replay: Answer | None = None


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
    return IdempotencyKey(pk=idempotency.record_key(tenant.tenant_id, key_id, header),
                          digest=blind_index(tenant, "request-body", _canonical(route, body)))


def natural_key(pk: str, route: str, body: dict[str, Any]) -> IdempotencyKey:
    """A key named by what the request makes (an operator's policy version), for bodies without personal data."""
    return IdempotencyKey(pk=pk, digest=sha256(_canonical(route, body).encode()).hexdigest())


def _canonical(route: str, body: dict[str, Any]) -> str:
    return json.dumps({"route": route, "body": body}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def claim(key: IdempotencyKey, lease: timedelta = LEASE, conflict: LeadVaultError | None = None) -> Held:
    """Hold the key for this request, or the first answer to replay.

    Raises ``conflict`` (default :class:`IdempotencyConflict`) when the key came with another body,
    and :class:`RequestInProgress` while another attempt of this request holds it.
    """
    owner, now = secrets.token_hex(12), clock.now()
    try:
        holder = idempotency.claim(key.pk, body_digest=key.digest, owner=owner, now=now, lease_until=now + lease,
                                   expires_at=now + timedelta(hours=KEEP_HOURS))
    except Exception:
        # The claim may have applied with every answer lost: give it back, or the client's retries would
        # wait out its lease for a request that is not running.
        release(Held(key, owner))
        raise
    if holder is None:
        return Held(key, owner)
    if holder.body_digest != key.digest:
        raise conflict or IdempotencyConflict()
    if holder.state == idempotency.IN_PROGRESS:
        raise RequestInProgress(retry_after=RETRY_AFTER_S)
    return Held(key, owner, replay=_answer_of(holder))


def _answer_of(stored: StoredAnswer) -> Answer:
    return int(stored.status or 200), json.loads(stored.response or "{}")


def record(held: Held, status: int, body: dict[str, Any], lead_id: str | None = None) -> StoredAnswer:
    """The completed record (unsaved): callers that can put it in their own write do so."""
    return idempotency.completed(held.key.pk, body_digest=held.key.digest, owner=held.owner, status=status,
                             response=json.dumps(body, separators=(",", ":")), lead_id=lead_id,
                             expires_at=clock.now() + timedelta(hours=KEEP_HOURS))


def complete(held: Held, status: int, body: dict[str, Any]) -> None:
    """Keep the answer. The work is done, so this insists; if it still fails, the answer stands and the
    claim ends with its lease (a retry after that would work afresh: logged, never raised)."""
    for attempt in range(COMPLETE_TRIES):
        try:
            changes.save(record(held, status, body))
            return
        except Exception as exc:  # noqa: BLE001 - throttled beyond the SDK's retries: try again shortly
            if attempt == COMPLETE_TRIES - 1:
                get_logger().warning("idempotency_record_unsaved", extra={"error": type(exc).__name__})
                return
            time.sleep(0.05 * 2**attempt)


def release(held: Held) -> None:
    """Give the key back after a failure, so the client's retry works afresh; never raises."""
    try:
        idempotency.release(held.key.pk, held.owner)
    except Exception as exc:  # noqa: BLE001 - the lease frees it anyway
        get_logger().warning("idempotency_claim_kept", extra={"error": type(exc).__name__})


def run_once(key: IdempotencyKey | None, work: Callable[[], Answer], lease: timedelta = LEASE,
             conflict: LeadVaultError | None = None, rerunnable: bool = False) -> Answer:
    """Claim, work, complete: the first answer of a keyed request, whatever retries follow.

    Only 2xx answers are kept. A refusal (4xx) gives the key back: refusals happen before anything is
    written. A failure (5xx) keeps it until its lease ends, since some of the work may stand: a retry
    meanwhile is told to wait (``request_in_progress``) rather than doing that work a second time,
    unless the work is ``rerunnable`` (its writes find what an earlier attempt wrote).
    """
    if key is None:
        return work()
    held = claim(key, lease, conflict)
    if held.replay is not None:
        return held.replay
    try:
        status, body = work()
    except Exception as failure:
        if rerunnable or isinstance(failure, LeadVaultError):
            release(held)
        raise
    if 200 <= status < 300:
        complete(held, status, body)
    else:
        release(held)
    return status, body
