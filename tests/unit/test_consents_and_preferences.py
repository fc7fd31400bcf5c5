"""The consent ledger and the preferences link."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import quote

import pytest

from chalicelib import clock
from tests.support.http import assert_error, bearer, body_of
from tests.support.leads import lead_body, post_lead
from tests.support.outbox import preferences_token
from tests.support.people import EMAIL_NORMALISED


def give(client, key, body):
    return client.http.post("/v1/consents", body=json.dumps(body),
                            headers=bearer(key, **{"Content-Type": "application/json"}))


def report(client, admin, query):
    return body_of(client.http.get(f"/v1/consents?{query}", headers=bearer(admin)))


def test_consents_are_append_only_and_the_current_state_is_derived(client, widget, admin):
    first = give(client, widget, {"visitor_id": "v-12345678", "grants": {"performance": True, "advertising": False},
                                  "policy_version": "2026-11", "source": "cookie_banner"})
    assert first.status_code == 201 and body_of(first)["consent_id"].startswith("evt_")
    give(client, widget, {"visitor_id": "v-12345678", "grants": {"performance": False}, "policy_version": "2026-11"})
    state = report(client, admin, "visitor_id=v-12345678")
    assert state["current"] == {"performance": False, "advertising": False}
    assert [h["grants"] for h in state["history"]] == [{"performance": True, "advertising": False},
                                                        {"performance": False}]


def test_consent_by_email_reaches_the_persons_lead(client, widget, admin):
    lead_id = body_of(post_lead(client, widget, lead_body()))["lead_id"]
    give(client, widget, {"email": EMAIL_NORMALISED.upper(), "grants": {"marketing_email": False},
                          "policy_version": "2026-11"})
    lead = body_of(client.http.get(f"/v1/leads/{lead_id}", headers=bearer(admin)))
    assert lead["consents"]["marketing_email"] is False and lead["consents"]["contact"] is True
    state = report(client, admin, f"email={quote(EMAIL_NORMALISED)}")
    assert state["current"]["marketing_email"] is False and len(state["history"]) == 2


@pytest.mark.parametrize("body", [
    {"grants": {"contact": True}, "policy_version": "1"},
    {"email": "a@example.org", "phone": "+919876543210", "grants": {"contact": True}, "policy_version": "1"},
    {"email": "a@example.org", "grants": {"spying": True}, "policy_version": "1"},
    {"email": "a@example.org", "grants": {}, "policy_version": "1"},
    {"email": "a@example.org", "grants": {"contact": "yes"}, "policy_version": "1"},
    {"email": "a@example.org", "grants": {"contact": True}},
    {"visitor_id": "short", "grants": {"contact": True}, "policy_version": "1"},
])
def test_bad_consents_are_400(client, widget, body):
    assert_error(give(client, widget, body), 400, "validation_error")


def test_roles(client, issue_key, admin):
    agent = issue_key("agent")
    assert_error(give(client, agent, {"visitor_id": "v-12345678", "grants": {"contact": True},
                                      "policy_version": "1"}), 403, "forbidden")
    assert_error(client.http.get("/v1/consents?visitor_id=v-12345678", headers=bearer(issue_key("widget"))),
                 403, "forbidden")


def test_preferences_link_shows_and_changes_marketing_choices(client, widget):
    client.http.post("/v1/privacy-requests", body=json.dumps({"type": "access", "email": EMAIL_NORMALISED}),
                     headers=bearer(widget, **{"Content-Type": "application/json"}))
    token = preferences_token(EMAIL_NORMALISED)
    shown = client.http.get(f"/v1/preferences?token={token}")
    assert shown.status_code == 200
    assert body_of(shown)["grants"] == {"marketing_calls": False, "marketing_email": False, "marketing_sms": False}
    changed = client.http.post("/v1/preferences", body=json.dumps({"token": token, "grants": {"marketing_sms": True}}),
                               headers={"Content-Type": "application/json"})
    assert changed.status_code == 200 and body_of(changed)["grants"]["marketing_sms"] is True
    assert body_of(client.http.get(f"/v1/preferences?token={token}"))["grants"]["marketing_sms"] is True


def test_tampered_or_expired_tokens_are_refused(client, widget, monkeypatch):
    client.http.post("/v1/privacy-requests", body=json.dumps({"type": "access", "email": EMAIL_NORMALISED}),
                     headers=bearer(widget, **{"Content-Type": "application/json"}))
    token = preferences_token(EMAIL_NORMALISED)
    payload, mac = token.split(".")
    for bad in (f"{payload}.{mac[:-2]}xx", f"{payload[:-2]}AA.{mac}", "nonsense", ""):
        assert_error(client.http.get(f"/v1/preferences?token={bad}"), 401, "unauthorized")
    assert_error(client.http.post("/v1/preferences", body=json.dumps({"token": "x.y", "grants": {}}),
                                  headers={"Content-Type": "application/json"}), 401, "unauthorized")
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(clock.now() + timedelta(days=31)))
    assert_error(client.http.get(f"/v1/preferences?token={token}"), 401, "unauthorized")


def test_preferences_change_only_marketing(client, widget):
    client.http.post("/v1/privacy-requests", body=json.dumps({"type": "access", "email": EMAIL_NORMALISED}),
                     headers=bearer(widget, **{"Content-Type": "application/json"}))
    token = preferences_token(EMAIL_NORMALISED)
    response = client.http.post("/v1/preferences", body=json.dumps({"token": token, "grants": {"contact": False}}),
                                headers={"Content-Type": "application/json"})
    assert_error(response, 400, "validation_error")
