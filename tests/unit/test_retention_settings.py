"""Retention days per kind (with bounds) and legal holds that stop the clock and erasure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import clock
from tests.support.http import assert_error, bearer, body_of
from tests.support.leads import lead_body, post_lead

# Every test that reads or moves the clock pins it (LEADVAULT_NOW): nothing here may depend on how long
# a test takes, or on the day it runs (a test straddling midnight UTC would look in the wrong day's audit).
START = datetime(2030, 3, 4, 5, 6, 7, tzinfo=UTC)


def pin_clock(monkeypatch, moment: datetime) -> datetime:
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(moment))
    return moment


def test_retention_is_set_per_kind_and_applies_to_new_leads(client, operator, tenant, widget, admin, monkeypatch):
    pin_clock(monkeypatch, START)
    answer = operator("admin_set_retention", {"tenant_id": tenant, "days": {"leads": 30, "audit": 400}})
    assert answer["days"] == {"leads": 30, "calls": 365, "consents": 1825, "audit": 400}
    lead = body_of(client.http.get(f"/v1/leads/{body_of(post_lead(client, widget, lead_body()))['lead_id']}",
                                   headers=bearer(admin)))
    created, expires = clock.parse_timestamp(lead["created_at"]), clock.parse_timestamp(lead["expires_at"])
    assert created == START and expires - created == timedelta(days=30)


@pytest.mark.parametrize("days", [{"audit": 364}, {"leads": 0}, {"calls": 3651}, {"leads": "30"}, {},
                                  {"everything": 30}, {"leads": 30.5}])
def test_retention_bounds(operator, tenant, days):
    assert operator("admin_set_retention", {"tenant_id": tenant, "days": days})["error"]["code"] == "validation_error"


def test_unknown_tenant_is_not_found(operator, tables):
    answer = operator("admin_set_retention", {"tenant_id": "ten_0000000000000000", "days": {"leads": 30}})
    assert answer["error"]["code"] == "not_found"


def test_a_legal_hold_stops_the_clock_and_release_resumes_it(client, operator, tenant, widget, admin, monkeypatch):
    pin_clock(monkeypatch, START)
    lead_id = body_of(post_lead(client, widget, lead_body()))["lead_id"]
    before = body_of(client.http.get(f"/v1/leads/{lead_id}", headers=bearer(admin)))
    expires = clock.parse_timestamp(before["expires_at"])
    held_at = pin_clock(monkeypatch, START + timedelta(days=10, seconds=17))
    held = operator("admin_legal_hold", {"tenant_id": tenant, "lead_id": lead_id, "on": True, "reason": "case-17"})
    assert held == {"lead_id": lead_id, "on": True, "expires_at": None}
    much_later = pin_clock(monkeypatch, expires + timedelta(days=100))
    assert client.http.get(f"/v1/leads/{lead_id}", headers=bearer(admin)).status_code == 200
    released = operator("admin_legal_hold", {"tenant_id": tenant, "lead_id": lead_id, "on": False})
    remaining = expires - held_at  # what was left when the hold stopped the clock
    assert clock.parse_timestamp(released["expires_at"]) == much_later + remaining


def test_holds_need_a_reason_and_stay_in_the_tenant(client, operator, tenant, widget):
    lead_id = body_of(post_lead(client, widget, lead_body()))["lead_id"]
    no_reason = operator("admin_legal_hold", {"tenant_id": tenant, "lead_id": lead_id, "on": True})
    assert no_reason["error"]["code"] == "validation_error"
    other = operator("admin_create_tenant", {"name": "Other", "default_region": "IN"})["tenant_id"]
    foreign = operator("admin_legal_hold", {"tenant_id": other, "lead_id": lead_id, "on": True, "reason": "x"})
    assert foreign["error"]["code"] == "not_found"


def test_holds_are_audited(operator, tenant, client, widget, monkeypatch):
    from chalicelib.services.audit import records_for_day

    pin_clock(monkeypatch, START)
    lead_id = body_of(post_lead(client, widget, lead_body()))["lead_id"]
    operator("admin_legal_hold", {"tenant_id": tenant, "lead_id": lead_id, "on": True, "reason": "case-17"})
    actions = [(r.action, r.object_id) for r in records_for_day(tenant, f"{START:%Y-%m-%d}")]
    assert ("lead.legal_hold.on", lead_id) in actions


def test_a_held_leads_activity_does_not_restart_expiry(client, operator, tenant, widget, admin):
    lead_id = body_of(post_lead(client, widget, lead_body()))["lead_id"]
    operator("admin_legal_hold", {"tenant_id": tenant, "lead_id": lead_id, "on": True, "reason": "case-17"})
    post_lead(client, admin, lead_body(name="Priya S."))  # staff: newer values win
    lead = body_of(client.http.get(f"/v1/leads/{lead_id}", headers=bearer(admin)))
    assert lead["expires_at"] is None and lead["name"] == "Priya S."
    assert_error(client.http.get("/v1/leads/led_" + "0" * 20, headers=bearer(admin)), 404, "not_found")
