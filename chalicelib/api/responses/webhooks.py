"""What the webhook routes answer: subscriptions (a new one with its secret), deliveries and their log."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from chalicelib.api.responses.common import View

EventType = Literal["lead.created", "lead.merged", "lead.updated", "call.stored", "consent.changed",
                    "privacy.request_completed", "lead.erased", "policy.published", "webhook.test"]


class Webhook(View):
    webhook_id: str
    url: str
    event_types: list[EventType]
    status: Literal["active", "disabled"]
    created_at: datetime
    rotated_at: datetime | None
    failing_since: datetime | None = Field(description="Since when every delivery has failed; null while healthy")


class WebhookCreated(Webhook):
    secret: str = Field(description="The signing secret, shown only in this answer (and its Idempotency-Key replay)")


class WebhookList(View):
    items: list[Webhook]


class SecretRotated(View):
    webhook_id: str
    rotated_at: datetime
    secret: str = Field(description="The new signing secret; the old one stopped signing at once")


class WebhookDeleted(View):
    webhook_id: str
    deleted: Literal[True]


class WebhookDelivery(View):
    event_id: str
    event_type: EventType
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_status: int | None = Field(description="The receiver's HTTP status at the last attempt")
    last_error: str | None = Field(description="Why the last attempt failed when there was no 2xx: http_status, "
                                               "redirect, timeout, connect_failed, tls, bad_response, "
                                               "private_address, unresolvable, scheme, ...")
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    created_at: datetime


class WebhookDeliveryPage(View):
    items: list[WebhookDelivery]
    next_cursor: str | None
