"""Webhooks on AWS's own engine, delivered to a real HTTP receiver on 127.0.0.1 (the test stage allows plain http
to it): a signed test event and a redelivery verified with the README's snippet, the log newest first through
its index, the delivery's expiry, refusals of private targets, and the secret shredded with its webhook."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import clock
from tests.support.http import bearer, body_of
from tests.support.tables import dump_text, scan_everything
from tests.support.webhook_receiver import readme_verify, receiving

pytestmark = pytest.mark.integration

NOON = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)


def post(client, key, path, body=None):
    raw = b"" if body is None else json.dumps(body).encode()
    return client.http.post(path, body=raw, headers=bearer(key, **{"Content-Type": "application/json"}))


def table(dump, suffix):
    return next(items for name, items in dump.items() if name.endswith(suffix))


def test_a_signed_test_event_and_its_redelivery_reach_a_real_receiver(client, issue_key, tenant, monkeypatch):
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(NOON))
    admin = issue_key("admin")
    verify = readme_verify()
    with receiving() as receiver:
        made = post(client, admin, "/v1/webhooks", {"url": receiver.url(), "event_types": ["lead.erased"]})
        assert made.status_code == 201, made.body
        answer = body_of(made)
        hook = answer["webhook_id"]
        first = body_of(post(client, admin, f"/v1/webhooks/{hook}/test"))
        monkeypatch.setenv("LEADVAULT_NOW", clock.iso(NOON + timedelta(minutes=1)))
        second = body_of(post(client, admin, f"/v1/webhooks/{hook}/test"))
        again = body_of(post(client, admin, f"/v1/webhooks/{hook}/deliveries/{first['event_id']}/redeliver"))
    assert first["status"] == second["status"] == again["status"] == "delivered"
    assert (again["event_id"], again["attempts"], again["last_status"]) == (first["event_id"], 2, 200)
    assert len(receiver.requests) == 3
    for request in receiver.requests:
        assert verify(answer["secret"], request.headers["leadvault-signature"], request.body)
        event = json.loads(request.body)
        assert event["type"] == "webhook.test" and event["tenant_id"] == tenant
        assert request.headers["leadvault-event-id"] == event["id"]
    assert receiver.requests[2].body == receiver.requests[0].body  # the same event, signed afresh
    assert json.loads(receiver.requests[0].body)["created_at"] == clock.iso(NOON)

    log = body_of(client.http.get(f"/v1/webhooks/{hook}/deliveries", headers=bearer(admin)))
    assert [item["event_id"] for item in log["items"]] == [second["event_id"], first["event_id"]]
    page = body_of(client.http.get(f"/v1/webhooks/{hook}/deliveries?limit=1", headers=bearer(admin)))
    rest = body_of(client.http.get(f"/v1/webhooks/{hook}/deliveries?limit=1&cursor={page['next_cursor']}",
                                   headers=bearer(admin)))
    assert [item["event_id"] for item in page["items"] + rest["items"]] == [second["event_id"], first["event_id"]]

    dump = scan_everything()
    assert answer["secret"] not in dump_text(dump)
    deliveries = [item for item in table(dump, "webhooks") if item["sk"]["S"].startswith("evt#")]
    assert len(deliveries) == 2
    expires = {int(item["expires_at"]["N"]) for item in deliveries}
    # kept as long as the tenant's audit trail (365 days by default) from when each was made
    assert expires == {int((NOON + timedelta(days=365)).timestamp()),
                       int((NOON + timedelta(minutes=1, days=365)).timestamp())}


def test_private_targets_are_refused_and_deletion_shreds_the_secret(client, issue_key, monkeypatch):
    admin = issue_key("admin")
    for url in ("http://169.254.169.254/latest/meta-data/", "https://10.0.0.1/hook", "https://[::ffff:127.0.0.1]/",
                "https://100.64.0.1/hook"):
        refused = post(client, admin, "/v1/webhooks", {"url": url, "event_types": ["lead.created"]})
        assert refused.status_code == 400 and body_of(refused)["error"]["details"][0]["field"] == "url"
    with receiving() as receiver:
        hook = body_of(post(client, admin, "/v1/webhooks", {"url": receiver.url(),
                                                              "event_types": ["lead.created"]}))["webhook_id"]
        assert [item for item in table(scan_everything(), "person_keys") if hook in item["key_ref"]["S"]]
        deleted = client.http.delete(f"/v1/webhooks/{hook}", headers=bearer(admin))
        assert body_of(deleted) == {"webhook_id": hook, "deleted": True}
        assert post(client, admin, f"/v1/webhooks/{hook}/test").status_code == 404
    assert receiver.requests == []
    dump = scan_everything()
    assert hook not in dump_text({"keys": table(dump, "person_keys")})
    assert not [item for item in table(dump, "webhooks") if item["sk"]["S"].startswith("whk#")]
