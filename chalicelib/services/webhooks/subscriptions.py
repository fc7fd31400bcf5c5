"""Tenants' webhook subscriptions: create (with its secret, shown once), list, rotate the secret, delete.

A URL is checked against the SSRF rules of :mod:`chalicelib.notify.webhooks` when the subscription is made
(and again before every delivery). The secret is shown only in the answer that made it; an
``Idempotency-Key`` replays that answer by opening the sealed secret again, so no copy of it is ever
kept in plain text, not even in the replay record.
"""

from __future__ import annotations

import re
import secrets
from typing import Any, Literal

from pydantic import Field, field_validator

from chalicelib import clock
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.notify.webhooks import MAX_URL_LENGTH, UnsafeTarget, check_url
from chalicelib.services import audit, idempotency
from chalicelib.services.access.auth import Caller
from chalicelib.services.tenants.tenancy import require_tenant
from chalicelib.services.validation import StrictInput, parse_input
from chalicelib.services.webhooks.catalogue import EVENT_TYPES
from chalicelib.store import webhooks
from chalicelib.store.webhooks import Subscription

WEBHOOK_ID_PREFIX = "whk_"
WEBHOOK_ID = re.compile(r"^whk_[0-9a-f]{32}$")
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
MAX_PER_TENANT = 10

EventType = Literal[EVENT_TYPES]  # type: ignore[valid-type]


class WebhookInput(StrictInput):
    url: str = Field(min_length=1, max_length=MAX_URL_LENGTH, examples=["https://crm.example.com/hooks/leadvault"])
    event_types: list[EventType] = Field(min_length=1, max_length=len(EVENT_TYPES),  # type: ignore[valid-type]
                                         examples=[["lead.created", "lead.erased"]])

    @field_validator("event_types")
    @classmethod
    def _once_each(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


def new_secret() -> str:
    """256 random bits; receivers use the whole text (prefix included) as the HMAC key."""
    return SECRET_PREFIX + secrets.token_hex(32)


def require_subscription(caller: Caller, webhook_id: str) -> Subscription:
    """The caller's tenant's subscription; any other (or a malformed id) is ``not_found``."""
    subscription = webhooks.get(caller.tenant_id, webhook_id) if WEBHOOK_ID.match(webhook_id or "") else None
    if subscription is None:
        raise NotFound("No such webhook.")
    return subscription


def view(subscription: Subscription) -> dict[str, Any]:
    def when(moment: Any) -> str | None:
        return clock.iso(moment) if moment else None

    return {
        "webhook_id": subscription.webhook_id,
        "url": subscription.url,
        "event_types": list(subscription.event_types),
        "status": subscription.status,
        "created_at": clock.iso(subscription.created_at),
        "rotated_at": when(subscription.rotated_at),
        "failing_since": when(subscription.failing_since),
    }


def _with_secret(caller: Caller, answer: dict[str, Any]) -> dict[str, Any]:
    """The kept answer with the current secret opened again (the replay record never holds it)."""
    subscription = require_subscription(caller, answer["webhook_id"])
    secret = webhooks.secret_of(subscription)
    if secret is None:
        raise NotFound("No such webhook.")
    return {**answer, "secret": secret}


def create_webhook(caller: Caller, body: dict[str, Any], key_header: str | None, route: str) -> dict[str, Any]:
    """Check the URL, store the subscription with a new secret, and answer it with the secret (once)."""
    key = idempotency.idempotency_key(caller.tenant_id, caller.key_id, key_header, route, body)

    def work() -> tuple[int, dict[str, Any]]:
        data = parse_input(WebhookInput, body)
        try:
            check_url(data.url)
        except UnsafeTarget as refused:
            raise ValidationFailed(details=[{"field": "url", "problem": refused.problem}]) from None
        tenant = require_tenant(caller.tenant_id)
        if len(webhooks.of_tenant(tenant.tenant_id)) >= MAX_PER_TENANT:
            raise Conflict(f"A tenant has at most {MAX_PER_TENANT} webhooks; delete one first.",
                           code="too_many_webhooks")
        webhook_id = WEBHOOK_ID_PREFIX + secrets.token_hex(16)
        subscription = webhooks.create(
            tenant.tenant_id, webhook_id, url=data.url, event_types=data.event_types, secret=new_secret(),
            created_by_key_id=caller.key_id, now=clock.now(),
            also=[audit.build(tenant, caller.key_id, "webhook.create", webhook_id)])
        return 201, view(subscription)

    _, answer = idempotency.run_once(key, work)
    return _with_secret(caller, answer)


def list_webhooks(caller: Caller) -> dict[str, Any]:
    return {"items": [view(subscription) for subscription in webhooks.of_tenant(caller.tenant_id)]}


def rotate_secret(caller: Caller, webhook_id: str, key_header: str | None, route: str) -> dict[str, Any]:
    """A new secret that replaces the old one at once (no grace period: a leaked secret stops now)."""
    key = idempotency.idempotency_key(caller.tenant_id, caller.key_id, key_header, route, {})

    def work() -> tuple[int, dict[str, Any]]:
        subscription = require_subscription(caller, webhook_id)
        now = clock.now()
        entry = audit.build(caller.tenant_id, caller.key_id, "webhook.rotate_secret", webhook_id)
        if not webhooks.rotate(subscription, new_secret(), now, also=[entry]):
            raise Conflict("The webhook changed meanwhile; try again.")
        return 200, {"webhook_id": webhook_id, "rotated_at": clock.iso(now)}

    _, answer = idempotency.run_once(key, work)
    return _with_secret(caller, answer)


def delete_webhook(caller: Caller, webhook_id: str) -> dict[str, Any]:
    """Delete the subscription and shred its secret; its delivery log stays until the audit retention ends."""
    subscription = require_subscription(caller, webhook_id)
    entry = audit.build(caller.tenant_id, caller.key_id, "webhook.delete", webhook_id)
    if not webhooks.remove(subscription, also=[entry]):
        raise NotFound("No such webhook.")
    return {"webhook_id": webhook_id, "deleted": True}
