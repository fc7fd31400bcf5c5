"""Retention kept: expired data is invisible at once and purged on schedule, with one warning first."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import clock
from chalicelib.jobs import invoke_job
from chalicelib.runtime import LocalContext
from tests.support.field import at, call_event, post
from tests.support.http import assert_error, bearer, body_of
from tests.support.leads import lead_body, post_lead
from tests.support.outbox import messages
from tests.support.people import EMAIL_NORMALISED, PHONE
from tests.support.tables import scan_everything

DAY0 = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)
SECOND = {"name": "Ravi", "phone": "+91 91234 56780", "email": "ravi@example.org"}
THIRD = {"name": "Meera", "phone": "+91 99000 12345", "email": "meera@example.org"}


@pytest.fixture
def day(monkeypatch):
    def set_day(moment: datetime) -> None:
        monkeypatch.setenv("LEADVAULT_NOW", clock.iso(moment))

    set_day(DAY0)
    return set_day


def run(job: str, context=None):
    return invoke_job(job, context or LocalContext(job, timeout_s=60))


def items_of(lead_id: str) -> list[str]:
    """Every table and item that still names a lead (the audit trail and the event log aside: ids only, no
    personal data, kept for the audit retention)."""
    found = []
    for name, items in scan_everything().items():
        if name.endswith(("audit_log", "events")):
            continue
        found += [name for item in items if lead_id in json.dumps(item, default=str)]
    return found


def test_expired_leads_are_invisible_to_every_read_before_any_purge(client, widget, admin, issue_key, day):
    agent = issue_key("agent", agent_id="asha")
    lead_id = body_of(post_lead(client, widget, lead_body()))["lead_id"]
    post(client, admin, f"/v1/leads/{lead_id}", {})
    client.http.patch(f"/v1/leads/{lead_id}", body=json.dumps({"assigned_agent": "asha"}),
                      headers=bearer(admin, **{"Content-Type": "application/json"}))
    day(DAY0 + timedelta(days=366))
    for key in (admin, agent):
        assert_error(client.http.get(f"/v1/leads/{lead_id}", headers=bearer(key)), 404, "not_found")
        assert_error(client.http.get(f"/v1/leads/{lead_id}/timeline", headers=bearer(key)), 404, "not_found")
        assert body_of(client.http.get("/v1/leads", headers=bearer(key)))["items"] == []
    patched = client.http.patch(f"/v1/leads/{lead_id}", body=json.dumps({"stage": "won"}),
                                headers=bearer(admin, **{"Content-Type": "application/json"}))
    assert_error(patched, 404, "not_found")
    assert items_of(lead_id)  # invisible, not yet deleted


def test_purge_removes_exactly_what_is_due(client, widget, admin, issue_key, operator, tenant, day):
    agent = issue_key("agent", agent_id="asha")
    due = body_of(post_lead(client, widget, lead_body()))["lead_id"]
    renewed = body_of(post_lead(client, widget, lead_body(**SECOND)))["lead_id"]
    held = body_of(post_lead(client, widget, lead_body(**THIRD)))["lead_id"]
    post(client, agent, "/v1/shifts/start")
    day(DAY0 + timedelta(hours=1))
    post(client, agent, "/v1/calls", {"events": [call_event("c1", PHONE, at(DAY0, minutes=5))]})
    operator("admin_legal_hold", {"tenant_id": tenant, "lead_id": held, "on": True, "reason": "case-9"})
    day(DAY0 + timedelta(days=200))
    post_lead(client, widget, lead_body(**SECOND))  # activity restarts the renewed lead's clock
    day(DAY0 + timedelta(days=366))
    summary = run("purge_expired")
    assert summary["leads"] == 1 and summary["calls"] == 1 and summary["unfinished"] == 0
    assert items_of(due) == []
    assert client.http.get(f"/v1/leads/{renewed}", headers=bearer(admin)).status_code == 200
    assert client.http.get(f"/v1/leads/{held}", headers=bearer(admin)).status_code == 200
    again = post_lead(client, widget, lead_body())
    assert again.status_code == 201 and body_of(again)["lead_id"] != due
    assert run("purge_expired").get("leads", 0) == 0


def test_an_interrupted_purge_finishes_later_without_leftovers(client, widget, day):
    lead_ids = [body_of(post_lead(client, widget, lead_body(phone=f"+91 98000 300{n:02d}", email=None)))["lead_id"]
                for n in range(8)]
    day(DAY0 + timedelta(days=366))
    checks = {"left": 5}

    class Dwindling:
        aws_request_id = "interrupted"

        def get_remaining_time_in_millis(self):
            checks["left"] -= 1
            return 60_000 if checks["left"] > 0 else 0

    first = run("purge_expired", Dwindling())
    assert first["unfinished"] == 1 and 0 < first.get("leads", 0) < 8
    second = run("purge_expired")
    assert second["unfinished"] == 0 and first["leads"] + second["leads"] == 8
    assert all(items_of(lead_id) == [] for lead_id in lead_ids)


def test_audit_records_go_after_the_audit_retention(day, client, admin, tenant):
    from chalicelib.services.audit import records_for_day

    post_lead(client, admin, lead_body())  # staff submissions are audited
    assert records_for_day(tenant, "2026-01-05")
    day(DAY0 + timedelta(days=364))
    run("purge_expired")
    assert records_for_day(tenant, "2026-01-05")
    day(DAY0 + timedelta(days=367))
    assert run("purge_expired")["audit_records"] >= 1
    assert records_for_day(tenant, "2026-01-05") == []


def test_one_retention_notice_per_expiry(client, widget, admin, day):
    lead_id = body_of(post_lead(client, widget, lead_body()))["lead_id"]
    expires = clock.parse_timestamp(body_of(client.http.get(f"/v1/leads/{lead_id}", headers=bearer(admin)))
                                    ["expires_at"])
    day(expires - timedelta(hours=72))
    assert run("retention_notices").get("sent", 0) == 0
    day(expires - timedelta(hours=30))
    assert run("retention_notices")["sent"] == 1
    assert run("retention_notices").get("sent", 0) == 0
    notices = [m for m in messages() if m["to"] == EMAIL_NORMALISED and "erased on" in m["text"]]
    assert len(notices) == 1 and "token=" in notices[0]["text"]
    timeline = body_of(client.http.get(f"/v1/leads/{lead_id}/timeline", headers=bearer(admin)))["items"]
    assert any(item["type"] == "notice" and item["kind"] == "retention" for item in timeline)
    post_lead(client, widget, lead_body(name="Priya again"))  # renewed: a new expiry, a new notice later
    day(expires + timedelta(days=365) - timedelta(hours=30))
    assert run("retention_notices")["sent"] == 1


def test_people_who_opted_out_of_marketing_still_get_the_retention_notice(client, widget, day):
    lead_id = body_of(post_lead(client, widget, lead_body()))["lead_id"]
    client.http.post("/v1/consents", body=json.dumps({"email": EMAIL_NORMALISED, "grants": {"marketing_email": False},
                                                      "policy_version": "1"}),
                     headers=bearer(widget, **{"Content-Type": "application/json"}))
    day(DAY0 + timedelta(days=364))
    assert run("retention_notices")["sent"] == 1
    assert lead_id


def test_a_retention_change_re_dates_existing_leads_in_the_next_purge(day, client, widget, admin, operator, tenant):
    short = body_of(post_lead(client, widget, lead_body()))["lead_id"]
    operator("admin_set_retention", {"tenant_id": tenant, "days": {"leads": 30}})
    day(DAY0 + timedelta(days=31))
    summary = run("purge_expired")
    assert summary["leads_redated"] == 1 and summary["leads"] == 1
    assert items_of(short) == []
    kept = body_of(post_lead(client, widget, lead_body(**SECOND)))["lead_id"]
    operator("admin_set_retention", {"tenant_id": tenant, "days": {"leads": 730}})
    day(DAY0 + timedelta(days=31 + 400))
    assert run("purge_expired")["leads_redated"] == 1
    lead = body_of(client.http.get(f"/v1/leads/{kept}", headers=bearer(admin)))
    created = clock.parse_timestamp(lead["created_at"])
    assert clock.parse_timestamp(lead["expires_at"]) - created == timedelta(days=730)
