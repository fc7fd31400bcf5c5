"""Grievances on AWS's own engine: the queue index, conditional writes, and nothing readable in the tables."""

from __future__ import annotations

import json

import pytest

from tests.support.http import assert_error, bearer, body_of
from tests.support.outbox import last_code, messages
from tests.support.people import EMAIL, EMAIL_NORMALISED, PLAINTEXT_MARKERS
from tests.support.tables import dump_text, scan_everything

pytestmark = pytest.mark.integration

COMPLAINT = "Your agent Mallikarjun kept calling me after I said no, seven times on Sunday."


def post(client, key, path, body):
    return client.http.post(path, body=json.dumps(body), headers=bearer(key, **{"Content-Type": "application/json"}))


def test_raised_verified_queued_answered_and_sealed(client, operator, issue_key):
    tenant_id = operator("admin_create_tenant", {
        "name": "Acme Leads", "default_region": "IN", "grievance_due_days": 30,
        "grievance_officer": {"name": "Meera Iyer", "email": "grievance@acme.example"}})["tenant_id"]
    widget, admin = issue_key("widget", tenant_id=tenant_id), issue_key("admin", tenant_id=tenant_id)
    filed = body_of(post(client, widget, "/v1/grievances", {"email": EMAIL, "text": COMPLAINT}))
    grievance_id = filed["grievance_id"]
    wrong = "000000" if last_code(EMAIL_NORMALISED) != "000000" else "111111"
    assert_error(post(client, widget, f"/v1/grievances/{grievance_id}/verify", {"code": wrong}), 400, "invalid_code")
    verified = post(client, widget, f"/v1/grievances/{grievance_id}/verify", {"code": last_code(EMAIL_NORMALISED)})
    assert body_of(verified) == {"status": "open"}
    assert [m for m in messages() if m["to"] == "grievance@acme.example" and COMPLAINT in m["text"]]

    queue = body_of(client.http.get("/v1/grievances?status=open", headers=bearer(admin)))
    assert [item["grievance_id"] for item in queue["items"]] == [grievance_id]
    answered = body_of(post(client, admin, f"/v1/grievances/{grievance_id}/answer", {"text": "The calls stopped."}))
    assert (answered["status"], answered["answer_sent"], answered["text"]) == ("answered", True, COMPLAINT)
    assert_error(post(client, admin, f"/v1/grievances/{grievance_id}/answer", {"text": "Again"}), 409,
                 "grievance_not_open")
    assert body_of(client.http.get("/v1/grievances?status=open", headers=bearer(admin)))["items"] == []
    assert body_of(client.http.get("/v1/grievances", headers=bearer(admin)))["items"][0]["status"] == "answered"

    text = dump_text(scan_everything()).lower()
    for marker in (*PLAINTEXT_MARKERS, "mallikarjun", "calls stopped"):
        assert marker.lower() not in text, marker
