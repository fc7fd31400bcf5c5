"""Events delivered from DynamoDB Local's own stream by the local poller's code, to real HTTP receivers on
127.0.0.1: signed and verifiable with the README's snippet; a receiver down for a while gets every event
once it is back (duplicates only with the same event id); an erasure reaches every subscriber and shows,
with who acknowledged it, on the request's receipt."""

from __future__ import annotations

import json
from collections import defaultdict
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import clock
from chalicelib.jobs import invoke_job
from chalicelib.runtime import LocalContext
from devtools.stream_poller import events_poller
from tests.support.http import bearer, body_of
from tests.support.leads import lead_body, post_lead
from tests.support.people import PHONE
from tests.support.webhook_receiver import readme_verify, receiving

pytestmark = pytest.mark.integration

NOON = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)


def post(client, key, path, body=None):
    raw = b"" if body is None else json.dumps(body).encode()
    return client.http.post(path, body=raw, headers=bearer(key, **{"Content-Type": "application/json"}))


def subscribe(client, admin, receiver, types):
    made = post(client, admin, "/v1/webhooks", {"url": receiver.url(), "event_types": list(types)})
    assert made.status_code == 201, made.body
    return body_of(made)


def retry_job() -> dict:
    return invoke_job("retry_webhooks", LocalContext("retry_webhooks", timeout_s=120))


@pytest.fixture
def poller(tables, monkeypatch):
    """The local run's poller of the events table's stream, having read what earlier tests left there."""
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(NOON))
    stream = events_poller()
    while stream.poll_once():
        pass
    return stream


def drain(stream) -> None:
    while stream.poll_once():
        pass


def new_lead(client, widget, number: int) -> str:
    answer = post_lead(client, widget, lead_body(phone=f"+91 98765 4{number:04d}", email=f"p{number}@example.org"))
    assert answer.status_code == 201, answer.body
    return body_of(answer)["lead_id"]


def test_a_new_leads_event_comes_off_the_stream_signed_and_verifiable(client, issue_key, tenant, poller):
    admin, widget = issue_key("admin"), issue_key("widget")
    verify = readme_verify()
    with receiving() as receiver:
        hook = subscribe(client, admin, receiver, ["lead.created"])
        lead_id = new_lead(client, widget, 1)
        drain(poller)
        drain(poller)  # read again from where it stopped: nothing more
    [request] = receiver.requests
    assert verify(hook["secret"], request.headers["leadvault-signature"], request.body)
    event = json.loads(request.body)
    assert (event["type"], event["tenant_id"], event["data"]["lead_id"]) == ("lead.created", tenant, lead_id)
    assert request.headers["leadvault-event-id"] == event["id"] and event["created_at"] == clock.iso(NOON)


def test_a_receiver_down_for_a_while_gets_every_event_once_back(client, issue_key, poller, monkeypatch):
    admin, widget = issue_key("admin"), issue_key("widget")
    verify = readme_verify()
    with receiving("status:503") as receiver:
        hook = subscribe(client, admin, receiver, ["lead.created"])
        lead_ids = {new_lead(client, widget, number) for number in range(3)}
        drain(poller)
        assert len(receiver.requests) == 3 and {r.body for r in receiver.requests}  # each tried, refused
        monkeypatch.setenv("LEADVAULT_NOW", clock.iso(NOON + timedelta(minutes=30)))
        retry_job()  # still down
        receiver.behaviour = "ok"
        monkeypatch.setenv("LEADVAULT_NOW", clock.iso(NOON + timedelta(hours=3)))
        retry_job()
        drain(poller)  # nothing new on the stream; nothing sent again
        retry_job()
    bodies: dict[str, set[bytes]] = defaultdict(set)
    for request in receiver.requests:
        assert verify(hook["secret"], request.headers["leadvault-signature"], request.body)
        event = json.loads(request.body)
        assert request.headers["leadvault-event-id"] == event["id"]
        bodies[event["id"]].add(request.body)
    # A duplicate is the same event: the same id, the same bytes.
    assert all(len(sent) == 1 for sent in bodies.values())
    assert {json.loads(next(iter(sent)))["data"]["lead_id"] for sent in bodies.values()} == lead_ids
    log = body_of(client.http.get(f"/v1/webhooks/{hook['webhook_id']}/deliveries", headers=bearer(admin)))["items"]
    assert sorted(item["status"] for item in log) == ["delivered"] * 3
    listed = body_of(client.http.get("/v1/webhooks", headers=bearer(admin)))["items"]
    assert listed[0]["failing_since"] is None


def test_an_erasure_reaches_every_subscriber_and_its_receipt_says_who_acknowledged(
        client, issue_key, poller):
    admin, widget = issue_key("admin"), issue_key("widget")
    verify = readme_verify()
    with ExitStack() as stack:
        crm, dialer, broken = (stack.enter_context(receiving(behaviour))
                               for behaviour in ("ok", "ok", "status:500"))
        hooks = {name: subscribe(client, admin, receiver, ["lead.erased"])
                 for name, receiver in (("crm", crm), ("dialer", dialer), ("broken", broken))}
        uninterested = subscribe(client, admin, stack.enter_context(receiving()), ["lead.created"])
        lead_id = body_of(post_lead(client, widget, lead_body()))["lead_id"]
        filed = post(client, admin, "/v1/privacy-requests", {"type": "erasure", "phone": PHONE,
                                                             "verified_by_admin": True})
        request_id = body_of(filed)["request_id"]
        assert invoke_job("privacy_worker", LocalContext("privacy_worker", timeout_s=60))["completed"] == 1
        path = f"/v1/privacy-requests/{request_id}"
        # Completed, and the stream not read yet: every subscriber is still to be told.
        before = body_of(client.http.get(path, headers=bearer(admin)))
        assert before["status"] == "completed"
        assert {item["webhook_id"]: (item["told"], item["status"]) for item in before["webhooks"]} == {
            hook["webhook_id"]: (0, "pending") for hook in hooks.values()}
        drain(poller)
        after = body_of(client.http.get(path, headers=bearer(admin)))
        widget_view = body_of(client.http.get(path, headers=bearer(widget)))
    for name, receiver in (("crm", crm), ("dialer", dialer), ("broken", broken)):
        [request] = receiver.requests
        assert verify(hooks[name]["secret"], request.headers["leadvault-signature"], request.body)
        event = json.loads(request.body)
        assert event["type"] == "lead.erased" and event["data"] == {"lead_id": lead_id, "reason": "erasure"}
    proof = {item["webhook_id"]: item for item in after["webhooks"]}
    assert uninterested["webhook_id"] not in proof
    for name in ("crm", "dialer"):
        assert proof[hooks[name]["webhook_id"]] == {"webhook_id": hooks[name]["webhook_id"], "events": 1, "told": 1,
                                                    "acknowledged": 1, "status": "acknowledged"}
    assert proof[hooks["broken"]["webhook_id"]]["status"] == "pending"  # refused, and in the retry schedule
    assert proof[hooks["broken"]["webhook_id"]]["acknowledged"] == 0
    assert "webhooks" not in widget_view  # the tenant's set-up is shown to its admins only
