"""The purge on AWS's own engine: the expiry-ordered index yields exactly the due leads."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from chalicelib import clock
from chalicelib.jobs import invoke_job
from chalicelib.runtime import LocalContext
from tests.support.http import bearer, body_of
from tests.support.leads import lead_body, post_lead
from tests.support.tables import scan_everything

pytestmark = pytest.mark.integration


def test_purge_deletes_due_leads_and_keeps_the_rest(client, widget, admin, monkeypatch):
    start = clock.now()
    old = [body_of(post_lead(client, widget, lead_body(phone=f"+91 98000 400{n:02d}", email=None)))["lead_id"]
           for n in range(5)]
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(start + timedelta(days=100)))
    young = [body_of(post_lead(client, widget, lead_body(phone=f"+91 98000 500{n:02d}", email=None)))["lead_id"]
             for n in range(3)]
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(start + timedelta(days=366)))
    summary = invoke_job("purge_expired", LocalContext("purge_expired", timeout_s=60))
    assert summary["leads"] == 5 and summary["identity_claims"] == 5 and summary["unfinished"] == 0
    dump = scan_everything()
    # Only the audit trail and the event log (whose lead.erased tells tenants' systems to delete) keep ids.
    kept = {name: items for name, items in dump.items() if not name.endswith(("audit_log", "-events"))}
    text = json.dumps(kept, default=str)
    assert not [lead_id for lead_id in old if lead_id in text]
    erased = [item for name, items in dump.items() if name.endswith("-events") for item in items
              if item["type"]["S"] == "lead.erased"]
    assert sorted(item["data"]["M"]["lead_id"]["S"] for item in erased) == sorted(old)
    assert {item["data"]["M"]["reason"]["S"] for item in erased} == {"retention"}
    listed = [item["lead_id"] for item in body_of(client.http.get("/v1/leads", headers=bearer(admin)))["items"]]
    assert sorted(listed) == sorted(young)


def test_retention_change_re_dates_through_partiql_on_the_real_engine(client, widget, admin, operator, tenant,
                                                                        monkeypatch):
    start = clock.now()
    lead_id = body_of(post_lead(client, widget, lead_body()))["lead_id"]
    operator("admin_set_retention", {"tenant_id": tenant, "days": {"leads": 10}})
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(start + timedelta(days=5)))
    assert invoke_job("purge_expired", LocalContext("purge_expired", timeout_s=60))["leads_redated"] == 1
    lead = body_of(client.http.get(f"/v1/leads/{lead_id}", headers=bearer(admin)))
    assert clock.parse_timestamp(lead["expires_at"]) - clock.parse_timestamp(lead["last_activity_at"]) == \
        timedelta(days=10)
