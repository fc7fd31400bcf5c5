"""Every event type, each made by its real change through the app, read off DynamoDB Local's own stream by
the local run's poller and handed to the very handler Lambda runs, reaches real HTTP receivers on 127.0.0.1:
signed with its subscription's secret (checked by the README's snippet), ids and field names only, and once
per subscription however often the stream's records are read."""

from __future__ import annotations

import json
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib import clock
from chalicelib.jobs import invoke_job
from chalicelib.runtime import LocalContext
from chalicelib.services.webhooks.catalogue import EVENT_TYPES, TEST
from devtools.stream_poller import events_poller
from tests.support.field import at, call_event
from tests.support.http import bearer, body_of
from tests.support.leads import lead_body, post_lead
from tests.support.people import PHONE, PLAINTEXT_MARKERS
from tests.support.webhook_receiver import readme_verify, receiving

pytestmark = pytest.mark.integration

NOON = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)
# Written out, so a type added to the catalogue without a case here fails the first assert.
STREAMED = ("lead.created", "lead.merged", "lead.updated", "call.stored", "consent.changed",
            "privacy.request_completed", "lead.erased", "policy.published")


def send(client, key, path, body, method="POST"):
    return client.http.request(method, path, body=json.dumps(body),
                               headers=bearer(key, **{"Content-Type": "application/json"}))


@pytest.fixture
def poller(tables, monkeypatch):
    """The local run's poller, past what earlier tests left on the stream, keeping each batch it hands over."""
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(NOON))
    stream = events_poller()
    drain(stream)
    handle, stream.batches = stream.handle, []

    def keeping(records: list[dict[str, Any]]) -> dict[str, Any]:
        stream.batches.append(records)
        return handle(records)

    stream.handle = keeping
    return stream


def drain(stream) -> None:
    """Read until two polls in a row hand nothing over: a poll that found its iterator stale (DynamoDB Local
    answers TrimmedDataAccessException for one taken on an empty shard) hands nothing and re-takes it next time."""
    while stream.poll_once() or stream.poll_once():
        pass


def every_change(client, operator, issue_key, tenant) -> dict[str, str]:
    """Each change that writes an event, through the app's routes and functions; the ids they made."""
    widget, admin = issue_key("widget"), issue_key("admin")
    lead_id = body_of(post_lead(client, widget, lead_body()))["lead_id"]  # lead.created
    merged = post_lead(client, admin, lead_body(name="Priya S.", fields=None))  # lead.merged, consent.changed
    assert merged.status_code == 200, merged.body
    patched = send(client, admin, f"/v1/leads/{lead_id}", {"stage": "contacted", "assigned_agent": "asha"}, "PATCH")
    assert patched.status_code == 200, patched.body  # lead.updated
    consent = send(client, admin, "/v1/consents", {"phone": PHONE, "grants": {"marketing_sms": False},
                                                   "policy_version": "1"})
    assert consent.status_code == 201, consent.body  # consent.changed of the lead
    leadless = send(client, admin, "/v1/consents", {"email": "nobody@example.org", "grants": {"marketing_sms": False},
                                                    "policy_version": "1"})
    assert leadless.status_code == 201, leadless.body  # a person with no lead: no event, by design
    agent = issue_key("agent", agent_id="asha")
    assert send(client, agent, "/v1/shifts/start", {}).status_code in (200, 201)
    calls = send(client, agent, "/v1/calls", {"events": [call_event("c1", PHONE, at(NOON, minutes=1))]})
    assert [r["status"] for r in body_of(calls)["results"]] == ["stored"]  # call.stored
    policy = operator("admin_publish_policy", {
        "version": "2026-12", "url": "https://acme.example/privacy", "summary": "Shorter retention.",
        "effective_at": "2026-12-20T00:00:00Z", "scope": "tenant", "tenant_id": tenant})  # policy.published
    filed = send(client, admin, "/v1/privacy-requests", {"type": "erasure", "phone": PHONE, "verified_by_admin": True})
    assert filed.status_code == 202, filed.body
    worked = invoke_job("privacy_worker", LocalContext("privacy_worker", timeout_s=60))
    assert worked["completed"] == 1  # privacy.request_completed, lead.erased
    return {"lead_id": lead_id, "policy_id": policy["policy_id"], "request_id": body_of(filed)["request_id"]}


def expected_data(event: dict[str, Any], ids: dict[str, str]) -> None:
    """The event's data: the ids and field names its change made, nothing else."""
    data, lead_id = event["data"], ids["lead_id"]
    kind = event["type"]
    if kind == "lead.created":
        assert data == {"lead_id": lead_id, "source": "web"}
    elif kind == "lead.merged":
        assert data == {"lead_id": lead_id, "changed": ["name"]}
    elif kind == "lead.updated":
        assert data == {"lead_id": lead_id, "changed": ["assigned_agent", "stage"]}
    elif kind == "call.stored":
        assert data == {"agent_id": "asha", "lead_ids": [lead_id], "calls": [{"call_id": "c1", "lead_id": lead_id}]}
    elif kind == "consent.changed":
        assert data["lead_id"] == lead_id and set(data) <= {"lead_id", "purposes", "source"}
        assert data["purposes"] in (["marketing_email"], ["marketing_sms"])
    elif kind == "policy.published":
        assert data == {"policy_id": ids["policy_id"], "version": "2026-12", "scope": "tenant"}
    elif kind == "lead.erased":
        assert data == {"lead_id": lead_id, "reason": "erasure"}
    else:
        assert kind == "privacy.request_completed", kind
        assert (data["request_id"], data["request_type"]) == (ids["request_id"], "erasure")
        assert data["receipt"]["leads"] == 1 and all(isinstance(n, int) for n in data["receipt"].values())


def test_every_event_type_arrives_signed_with_ids_only_and_once_per_subscription(
        client, operator, issue_key, tenant, poller):
    assert set(STREAMED) == set(EVENT_TYPES) - {TEST}
    admin = issue_key("admin")
    verify = readme_verify()
    with ExitStack() as stack:
        receivers = [stack.enter_context(receiving()) for _ in range(2)]
        hooks = []
        for receiver in receivers:
            made = send(client, admin, "/v1/webhooks", {"url": receiver.url(), "event_types": list(STREAMED)})
            assert made.status_code == 201, made.body
            hooks.append(body_of(made))
        ids = every_change(client, operator, issue_key, tenant)
        drain(poller)
        first = [list(receiver.requests) for receiver in receivers]
        # The stream read twice: the same records handed to the handler again, and a new poller from TRIM_HORIZON.
        assert poller.batches
        for records in poller.batches:
            assert invoke_again(records)["batchItemFailures"] == []
        drain(events_poller())
        drain(poller)
        logs = [body_of(client.http.get(f"/v1/webhooks/{hook['webhook_id']}/deliveries?limit=50",
                                        headers=bearer(admin)))["items"] for hook in hooks]
    for receiver, hook, other, before, log in zip(receivers, hooks, reversed(hooks), first, logs, strict=True):
        assert receiver.requests == before  # nothing sent again by any replayed record
        events = [json.loads(request.body) for request in receiver.requests]
        assert Counter(event["type"] for event in events) == {**dict.fromkeys(STREAMED, 1), "consent.changed": 2}
        assert len({event["id"] for event in events}) == len(events)  # each event id once per subscription
        for request, event in zip(receiver.requests, events, strict=True):
            signature = request.headers["leadvault-signature"]
            assert verify(hook["secret"], signature, request.body), event["type"]
            assert not verify(other["secret"], signature, request.body)  # the other subscription's secret fails
            assert request.headers["leadvault-event-id"] == event["id"]
            assert request.headers["leadvault-event-type"] == event["type"]
            assert (event["tenant_id"], event["created_at"]) == (tenant, clock.iso(NOON))
            expected_data(event, ids)
            text = (request.body.decode() + json.dumps(request.headers)).lower()
            for marker in PLAINTEXT_MARKERS:
                assert marker.lower() not in text, (event["type"], marker)
        assert sorted((item["event_id"], item["status"]) for item in log) == sorted(
            (event["id"], "delivered") for event in events)
    # Both subscriptions were told of the same events, under the same ids.
    assert {json.loads(r.body)["id"] for r in receivers[0].requests} == {
        json.loads(r.body)["id"] for r in receivers[1].requests}


def invoke_again(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The same batch of stream records, handed again to the function the poller (and Lambda) invokes."""
    from chalicelib.jobs import invoke_stream

    return invoke_stream("deliver_webhooks", records, LocalContext("deliver_webhooks", timeout_s=120.0))
