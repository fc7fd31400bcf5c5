"""Inputs that once answered 500: found by fuzzing or while giving the fuzzer nastier inputs. Each must be a 4xx."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest

from tests.support.field import call_event, post
from tests.support.http import assert_error, bearer
from tests.support.leads import lead_body, post_lead

LISTS = ("/v1/leads", "/v1/notifications", "/v1/agents/demo/shifts", "/v1/agents/demo/calls")


@pytest.mark.parametrize("limit", ["²", "١٢", "9" * 5000, "1" * 4301])
@pytest.mark.parametrize("path", LISTS)
def test_a_limit_of_other_digits_is_a_validation_error(client, admin, issue_key, path, limit):
    # "²".isdigit() is true but int("²") raises, and int() refuses more than 4300 digits: both were 500s.
    key = issue_key("agent", agent_id="demo") if path == "/v1/notifications" else admin
    response = client.http.get(f"{path}?limit={quote(limit)}", headers=bearer(key))
    assert_error(response, 400, "validation_error")


def _token(payload: str) -> str:
    return base64.urlsafe_b64encode(payload.encode()).rstrip(b"=").decode() + ".bad-mac"


@pytest.mark.parametrize("expires", ["Infinity", "-Infinity", "1e400", "NaN"])
def test_a_preferences_token_with_an_endless_expiry_is_refused(client, tables, expires):
    # json.loads reads Infinity and 1e400 as float('inf'); int() of it raised OverflowError before the MAC was checked.
    token = _token('{"t": "ten_0123456789abcdef", "o": "x", "e": ' + expires + "}")
    assert_error(client.http.get("/v1/preferences", headers={"X-Preferences-Token": token}), 401, "unauthorized")
    assert_error(client.http.post("/v1/preferences/read", headers={"Content-Type": "application/json"},
                                  body=json.dumps({"token": token})), 401, "unauthorized")
    response = client.http.post("/v1/preferences", headers={"Content-Type": "application/json"},
                                body=json.dumps({"token": token, "grants": {"marketing_email": False}}))
    assert_error(response, 401, "unauthorized")


def test_an_integer_of_thousands_of_digits_is_a_validation_error(client, widget):
    # int() refuses more than 4300 digits with a ValueError that json.loads let through: a 500.
    raw = json.dumps(lead_body())[:-1] + ', "utm": {"source": 1' + "0" * 5000 + "}}"
    assert_error(post_lead(client, widget, raw.encode()), 400, "validation_error")


def test_an_endless_number_is_refused_before_it_is_stored(client, operator, tenant, admin):
    # 1e400 read as infinity was stored in a number field, and the lead then answered with `Infinity`: not JSON.
    operator("admin_define_fields", {"tenant_id": tenant, "fields": [
        {"name": "budget", "type": "number", "category": "commercial"}]})
    raw = json.dumps(lead_body())[:-1] + ', "fields": {"budget": 1e400}}'
    assert_error(post_lead(client, admin, raw.encode()), 400, "validation_error")
    listed = client.http.get("/v1/leads", headers=bearer(admin))
    assert json.loads(listed.body)["items"] == []


@pytest.mark.parametrize("started_at", ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00+05:00",
                                        "9999-12-31T23:59:59-05:00", "1970-01-01T00:00:00Z"])
def test_a_call_at_the_ends_of_time_is_a_validation_error(client, issue_key, started_at):
    # Times Python cannot move to UTC, or whose shift window (hours before) it cannot reach, were 500s.
    agent = issue_key("agent", agent_id="a1")
    post(client, agent, "/v1/shifts/start", {})
    response = post(client, agent, "/v1/calls", {"events": [call_event("e1", "+91 98450 11111", started_at)]})
    error = assert_error(response, 400, "validation_error")
    assert error["details"][0]["field"] == "events.0.started_at"


@pytest.mark.parametrize("position", ["x", "\ud800", ""])
def test_a_notices_cursor_it_did_not_give_out_is_refused(client, issue_key, position):
    # Any short text passed as a resume position (even a lone surrogate); the other lists refuse such cursors.
    cursor = base64.urlsafe_b64encode(json.dumps({"k": "inbox", "p": position}).encode()).rstrip(b"=").decode()
    response = client.http.get(f"/v1/notifications?cursor={cursor}", headers=bearer(issue_key("agent", agent_id="a")))
    assert_error(response, 400, "validation_error")


def test_the_notices_cursor_it_gives_out_still_pages(client, operator, tenant, issue_key):
    agent = issue_key("agent", agent_id="a")
    for version, day in (("v1", "01"), ("v2", "02")):
        published = operator("admin_publish_policy", {"scope": "tenant", "tenant_id": tenant, "version": version,
                                                      "url": "https://acme.example/p", "summary": "s",
                                                      "effective_at": f"2026-01-{day}T00:00:00Z"})
        assert "policy_id" in published, published
        accepted = client.http.post(f"/v1/policies/{version}/accept", headers=bearer(agent), body=b"{}")
        assert accepted.status_code == 201
    first = json.loads(client.http.get("/v1/notifications?limit=1", headers=bearer(agent)).body)
    second = client.http.get(f"/v1/notifications?limit=1&cursor={first['next_cursor']}", headers=bearer(agent))
    versions = [first["items"][0]["policy_version"], json.loads(second.body)["items"][0]["policy_version"]]
    assert versions == ["v2", "v1"]
