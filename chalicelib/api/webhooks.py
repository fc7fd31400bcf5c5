"""Webhook routes (admins): subscriptions, their secrets, a test event, the delivery log and redelivery."""

from __future__ import annotations

from typing import Any

from chalicelib.api.endpoint import ApiBlueprint, Call, endpoint, json_response
from chalicelib.api.operations import ADMINS, PAGED, Operation

webhooks = ApiBlueprint(__name__)

RESPONSES = "chalicelib.api.responses.webhooks"

CREATE = Operation(
    "POST /v1/webhooks", "createWebhook", "Subscribe a URL to events; answers the signing secret, shown only here",
    ADMINS, f"{RESPONSES}:WebhookCreated", status=201,
    request="chalicelib.services.webhooks.subscriptions:WebhookInput", errors=(409,), produces=("webhook_id",),
    replay="service")
ROTATE = Operation(
    "POST /v1/webhooks/{webhook_id}/rotate", "rotateWebhookSecret",
    "A new signing secret; the old one stops at once", ADMINS, f"{RESPONSES}:SecretRotated", errors=(404, 409),
    replay="service")


@endpoint(webhooks, CREATE)
def create_webhook(call: Call) -> Any:
    from chalicelib.services.webhooks.subscriptions import create_webhook

    answer = create_webhook(call.caller, call.body, call.headers.get("idempotency-key"), CREATE.route)
    return json_response(answer, 201)


@endpoint(webhooks, Operation(
    "GET /v1/webhooks", "listWebhooks", "The tenant's webhooks (never their secrets)", ADMINS,
    f"{RESPONSES}:WebhookList"))
def list_webhooks(call: Call) -> Any:
    from chalicelib.services.webhooks.subscriptions import list_webhooks

    return list_webhooks(call.caller)


@endpoint(webhooks, Operation(
    "DELETE /v1/webhooks/{webhook_id}", "deleteWebhook", "Delete a webhook; its secret is shredded",
    ADMINS, f"{RESPONSES}:WebhookDeleted", errors=(404,)))
def delete_webhook(call: Call, webhook_id: str) -> Any:
    from chalicelib.services.webhooks.subscriptions import delete_webhook

    return delete_webhook(call.caller, webhook_id)


@endpoint(webhooks, ROTATE)
def rotate_webhook_secret(call: Call, webhook_id: str) -> Any:
    from chalicelib.services.webhooks.subscriptions import rotate_secret

    route = f"{ROTATE.route} {webhook_id}"
    return rotate_secret(call.caller, webhook_id, call.headers.get("idempotency-key"), route)


@endpoint(webhooks, Operation(
    "POST /v1/webhooks/{webhook_id}/test", "testWebhook",
    "Send a signed webhook.test event now (at most a few seconds) and answer its delivery", ADMINS,
    f"{RESPONSES}:WebhookDelivery", errors=(404,)))
def test_webhook(call: Call, webhook_id: str) -> Any:
    from chalicelib.services.webhooks.deliveries import send_test

    return send_test(call.caller, webhook_id)


@endpoint(webhooks, Operation(
    "GET /v1/webhooks/{webhook_id}/deliveries", "listWebhookDeliveries",
    "A webhook's deliveries, newest first", ADMINS, f"{RESPONSES}:WebhookDeliveryPage", query=PAGED, errors=(404,)))
def list_webhook_deliveries(call: Call, webhook_id: str) -> Any:
    from chalicelib.services.pagination import parse_limit
    from chalicelib.services.webhooks.deliveries import delivery_log

    return delivery_log(call.caller, webhook_id, parse_limit(call.query.get("limit")), call.query.get("cursor"))


@endpoint(webhooks, Operation(
    "POST /v1/webhooks/{webhook_id}/deliveries/{event_id}/redeliver", "redeliverWebhookEvent",
    "Send a delivery's event again now (the same body, a fresh signature)", ADMINS, f"{RESPONSES}:WebhookDelivery",
    errors=(404,)))
def redeliver_webhook_event(call: Call, webhook_id: str, event_id: str) -> Any:
    from chalicelib.services.webhooks.deliveries import redeliver

    return redeliver(call.caller, webhook_id, event_id)
