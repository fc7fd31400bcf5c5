"""Erasure on AWS's own engine: every table scanned raw afterwards, other people untouched."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import clock
from chalicelib.jobs import invoke_job
from chalicelib.runtime import LocalContext
from tests.support.field import at, call_event, post
from tests.support.http import bearer, body_of
from tests.support.leads import lead_body, post_lead
from tests.support.people import PHONE, PLAINTEXT_MARKERS
from tests.support.tables import dump_text, scan_everything

pytestmark = pytest.mark.integration

NINE = datetime(2026, 11, 20, 9, 0, 0, tzinfo=UTC)


def test_erasure_leaves_nothing_readable_of_the_person(client, issue_key, monkeypatch):
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(NINE))
    widget, admin, agent = issue_key("widget"), issue_key("admin"), issue_key("agent", agent_id="asha")
    lead_id = body_of(post_lead(client, widget, lead_body(), **{"Idempotency-Key": "k1"}))["lead_id"]
    other = body_of(post_lead(client, widget, lead_body(name="Ravi Kumar", phone="+91 91234 56780",
                                                        email="ravi@example.org")))["lead_id"]
    post(client, agent, "/v1/shifts/start")
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(NINE + timedelta(hours=2)))
    post(client, agent, "/v1/calls", {"events": [call_event("c1", PHONE, at(NINE, minutes=5)),
                                                 call_event("c2", "+91 91234 56780", at(NINE, minutes=6))]})
    filed = post(client, admin, "/v1/privacy-requests", {"type": "erasure", "phone": PHONE,
                                                         "verified_by_admin": True})
    request_id = body_of(filed)["request_id"]
    summary = invoke_job("privacy_worker", LocalContext("privacy_worker", timeout_s=60))
    assert summary["completed"] == 1
    done = body_of(client.http.get(f"/v1/privacy-requests/{request_id}", headers=bearer(admin)))
    assert done["status"] == "completed"
    # the idempotency record and the lead form's confirmation link
    assert done["receipt"]["calls"] == 1 and done["receipt"]["idempotency_records"] == 2
    dump = scan_everything()
    everything = dump_text(dump)
    for marker in PLAINTEXT_MARKERS:
        assert marker.lower() not in everything.lower(), marker
    # Only the audit trail and the event log (whose lead.erased tells tenants' systems to delete it) keep
    # the bare, pseudonymous lead id; nothing else does.
    kept = dump_text({name: items for name, items in dump.items() if not name.endswith(("audit_log", "-events"))})
    assert lead_id not in kept
    erased = [item for name, items in dump.items() if name.endswith("-events") for item in items
              if item["type"]["S"] == "lead.erased"]
    assert len(erased) == 1 and lead_id in dump_text({"events": erased})
    calls = [item for name, items in dump.items() if name.endswith("-calls") for item in items]
    assert [item["client_event_id"]["S"] for item in calls] == ["c2"]
    survivor = body_of(client.http.get(f"/v1/leads/{other}", headers=bearer(admin)))
    assert survivor["name"] == "Ravi Kumar" and survivor["last_contacted_at"] == at(NINE, minutes=6)
    assert json.dumps(done).count("led_") == 0
