"""Reading and working leads: roles, assignment, paging, audit, tenant isolation."""

from __future__ import annotations

import json

import pytest

from chalicelib import clock
from chalicelib.services.audit import records_for_day
from tests.support.http import assert_error, bearer, body_of
from tests.support.leads import lead_body, post_lead


@pytest.fixture
def lead_id(client, widget):
    return body_of(post_lead(client, widget, lead_body()))["lead_id"]


def patch(client, key, lead_id, body):
    return client.http.patch(f"/v1/leads/{lead_id}", headers=bearer(key, **{"Content-Type": "application/json"}),
                             body=json.dumps(body))


def test_widget_keys_cannot_read_leads(client, widget, lead_id):
    for path in ("/v1/leads", f"/v1/leads/{lead_id}", f"/v1/leads/{lead_id}/timeline"):
        assert_error(client.http.get(path, headers=bearer(widget)), 403, "forbidden")
    assert_error(patch(client, widget, lead_id, {"stage": "won"}), 403, "forbidden")


def test_agents_see_only_leads_assigned_to_them(client, issue_key, admin, lead_id):
    mine, other = issue_key("agent", agent_id="asha"), issue_key("agent", agent_id="ravi")
    assert_error(client.http.get(f"/v1/leads/{lead_id}", headers=bearer(mine)), 404, "not_found")
    assert body_of(client.http.get("/v1/leads", headers=bearer(mine)))["items"] == []
    assert patch(client, admin, lead_id, {"assigned_agent": "asha"}).status_code == 200
    assert client.http.get(f"/v1/leads/{lead_id}", headers=bearer(mine)).status_code == 200
    listed = body_of(client.http.get("/v1/leads", headers=bearer(mine)))["items"]
    assert [item["lead_id"] for item in listed] == [lead_id]
    assert_error(client.http.get(f"/v1/leads/{lead_id}", headers=bearer(other)), 404, "not_found")
    assert_error(patch(client, other, lead_id, {"stage": "contacted"}), 404, "not_found")


def test_agents_may_move_stages_but_not_reassign(client, issue_key, admin, lead_id):
    agent = issue_key("agent", agent_id="asha")
    patch(client, admin, lead_id, {"assigned_agent": "asha"})
    moved = patch(client, agent, lead_id, {"stage": "contacted"})
    assert moved.status_code == 200 and body_of(moved)["stage"] == "contacted"
    assert_error(patch(client, agent, lead_id, {"assigned_agent": "ravi"}), 403, "forbidden")


def test_stage_change_is_on_the_timeline_and_restarts_retention(client, admin, lead_id, monkeypatch):
    from datetime import timedelta

    before = body_of(client.http.get(f"/v1/leads/{lead_id}", headers=bearer(admin)))
    ten_days_later = clock.parse_timestamp(before["created_at"]) + timedelta(days=10)
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(ten_days_later))
    after = body_of(patch(client, admin, lead_id, {"stage": "qualified"}))
    assert after["stage"] == "qualified"
    assert clock.parse_timestamp(after["expires_at"]) - clock.parse_timestamp(before["expires_at"]) >= timedelta(days=9)
    assert after["last_activity_at"] == clock.iso(ten_days_later)
    items = body_of(client.http.get(f"/v1/leads/{lead_id}/timeline", headers=bearer(admin)))["items"]
    assert items[0]["type"] == "stage_change" and (items[0]["from"], items[0]["to"]) == ("new", "qualified")


@pytest.mark.parametrize("body", [{}, {"stage": "archived"}, {"assigned_agent": "has space"}, {"colour": "red"},
                                  {"fields": {"religion": "x"}}])
def test_bad_patches_are_4xx_and_change_nothing(client, admin, lead_id, body):
    before = body_of(client.http.get(f"/v1/leads/{lead_id}", headers=bearer(admin)))
    response = patch(client, admin, lead_id, body)
    assert response.status_code == 400
    after = body_of(client.http.get(f"/v1/leads/{lead_id}", headers=bearer(admin)))
    assert before == after


def test_other_tenants_get_404_for_every_route(client, operator, tables, lead_id):
    other = operator("admin_create_tenant", {"name": "Other", "default_region": "IN"})["tenant_id"]
    their_admin = operator("admin_issue_api_key", {"tenant_id": other, "role": "admin"})
    for path in (f"/v1/leads/{lead_id}", f"/v1/leads/{lead_id}/timeline"):
        assert_error(client.http.get(path, headers=bearer(their_admin)), 404, "not_found")
    assert_error(patch(client, their_admin, lead_id, {"stage": "won"}), 404, "not_found")
    assert body_of(client.http.get("/v1/leads", headers=bearer(their_admin)))["items"] == []


@pytest.mark.parametrize("lead_id", ["nope", "led_" + "0" * 20, "led_..%2Fetc", "led_" + "é" * 20, "LED_" + "A" * 20])
def test_unknown_or_malformed_lead_ids_are_404(client, admin, lead_id):
    assert_error(client.http.get(f"/v1/leads/{lead_id}", headers=bearer(admin)), 404, "not_found")


def test_listing_pages_through_every_lead_once_newest_first(client, widget, admin):
    created = [body_of(post_lead(client, widget, lead_body(phone=f"+91 98000 000{n:02d}", email=None)))["lead_id"]
               for n in range(11)]
    seen, cursor = [], None
    while True:
        path = "/v1/leads?limit=4" + (f"&cursor={cursor}" if cursor else "")
        page = body_of(client.http.get(path, headers=bearer(admin)))
        assert len(page["items"]) <= 4
        seen += [item["lead_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(created))


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=abc", "cursor=garbage",
                                   "cursor=eyJrIjoidGVuYW50IiwicCI6eyIwIjoieCJ9fQ"])
def test_bad_list_parameters_are_validation_errors(client, admin, query):
    assert_error(client.http.get(f"/v1/leads?{query}", headers=bearer(admin)), 400, "validation_error")


def test_every_read_of_personal_data_is_audited(client, admin, lead_id, tenant):
    client.http.get(f"/v1/leads/{lead_id}", headers=bearer(admin))
    client.http.get(f"/v1/leads/{lead_id}/timeline", headers=bearer(admin))
    client.http.get("/v1/leads", headers=bearer(admin))
    records = records_for_day(tenant, f"{clock.now():%Y-%m-%d}")
    reads = [(r.action, r.object_id, r.actor_key_id) for r in records if r.action.startswith("lead.")]
    assert reads == [("lead.read", lead_id, admin["key_id"]), ("lead.timeline.read", lead_id, admin["key_id"]),
                     ("lead.list", None, admin["key_id"])]


def test_expired_leads_are_invisible_at_once(client, admin, lead_id, monkeypatch):
    lead = body_of(client.http.get(f"/v1/leads/{lead_id}", headers=bearer(admin)))
    monkeypatch.setenv("LEADVAULT_NOW", lead["expires_at"])
    assert_error(client.http.get(f"/v1/leads/{lead_id}", headers=bearer(admin)), 404, "not_found")
    assert body_of(client.http.get("/v1/leads", headers=bearer(admin)))["items"] == []
