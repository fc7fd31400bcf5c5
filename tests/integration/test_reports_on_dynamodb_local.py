"""The admin reports on AWS's own engine: the tenant list index of privacy requests, the expiry range and held
tail of the leads' index (a projection and COUNT), the daily counters' token condition, the audit log's shards."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import clock
from chalicelib.jobs import invoke_job
from chalicelib.runtime import LocalContext
from chalicelib.store import field_work
from tests.support.field import at, call_event, post
from tests.support.http import bearer, body_of
from tests.support.leads import lead_body, post_lead
from tests.support.people import EMAIL, PHONE

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 20, 9, 0, 0, tzinfo=UTC)


@pytest.fixture
def keys(client, issue_key, monkeypatch):
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(T0))
    return {"admin": issue_key("admin"), "widget": issue_key("widget"), "agent": issue_key("agent", agent_id="asha")}


def read(client, key, path):
    response = client.http.get(path, headers=bearer(key))
    assert response.status_code == 200, response.body
    return body_of(response)


def test_reports_on_dynamodb_local(client, keys, operator, tenant, monkeypatch):
    admin, widget, agent = keys["admin"], keys["widget"], keys["agent"]
    operator("admin_set_retention", {"tenant_id": tenant, "days": {"leads": 10}})
    leads = [body_of(post_lead(client, widget, lead_body(phone=f"+91 98000 800{n:02d}", email=f"r{n}@example.org")))[
        "lead_id"] for n in range(3)]
    post_lead(client, widget, lead_body())
    operator("admin_legal_hold", {"tenant_id": tenant, "lead_id": leads[0], "on": True, "reason": "Court order"})

    # privacy requests: one completed, one open
    for verified in (True, False):
        response = client.http.post("/v1/privacy-requests", body=json.dumps(
            {"type": "access", "email": EMAIL, **({"verified_by_admin": True} if verified else {})}),
            headers=bearer(admin if verified else widget, **{"Content-Type": "application/json"}))
        assert response.status_code == 202, response.body
    invoke_job("privacy_worker", LocalContext("privacy_worker", timeout_s=60))
    assert [item["status"] for item in read(client, admin, "/v1/privacy-requests")["items"]] == [
        "pending_verification"]
    assert [item["status"] for item in read(client, admin, "/v1/privacy-requests?status=completed")["items"]] == [
        "completed"]

    # retention: three leads expire in 10 days (one of them held instead), one held
    report = read(client, admin, "/v1/reports/retention?limit=1")
    assert {day["date"]: day["expiring"] for day in report["days"] if day["expiring"]} == {"2026-11-30": 3}
    assert report["legal_holds"]["count"] == 1 and report["legal_holds"]["items"][0]["lead_id"] == leads[0]

    # calls: an upload whose count was lost, sent again, counted once
    assert post(client, agent, "/v1/shifts/start").status_code == 201
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(T0 + timedelta(hours=1)))
    events = {"events": [call_event("k1", PHONE, at(T0, minutes=5)), call_event("k2", PHONE, at(T0, minutes=-5))]}
    real = field_work.add_to_day

    def lost_answer(tenant_id, count, token):
        real(tenant_id, count, token)
        assert real(tenant_id, count, token) is False  # the SDK's retry: refused by its own token
        raise RuntimeError("answer lost past every retry")

    monkeypatch.setattr(field_work, "add_to_day", lost_answer)
    assert post(client, agent, "/v1/calls", events).status_code == 500
    monkeypatch.setattr(field_work, "add_to_day", real)
    assert post(client, agent, "/v1/calls", events).status_code == 200
    day = read(client, admin, "/v1/reports/calls?from=2026-11-20&to=2026-11-20")["days"][0]["agents"]
    assert day == [{"agent_id": "asha", "stored": 1, "ignored": {"outside_shift": 1, "own_number": 0,
                                                                 "unknown_number": 0},
                    "shifts": 1, "shift_minutes": 0}]

    # the audit log: merged over its shards, newest first, the same whole or in pages
    whole = read(client, admin, "/v1/audit?limit=200")["items"]
    assert len(whole) >= 5 and [item["at"] for item in whole] == sorted((item["at"] for item in whole), reverse=True)
    paged, cursor = [], None
    while True:
        answer = read(client, admin, "/v1/audit?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        paged += answer["items"]
        cursor = answer["next_cursor"]
        if not cursor:
            break
    assert [item["audit_id"] for item in paged if item["action"] != "audit.read"] == [
        item["audit_id"] for item in whole if item["action"] != "audit.read"]
