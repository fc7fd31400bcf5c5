"""The consent ledger and the preferences link."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import quote

import pytest

from chalicelib import clock
from chalicelib.jobs import invoke_job
from chalicelib.runtime import LocalContext
from tests.support.http import assert_error, bearer, body_of
from tests.support.leads import lead_body, post_lead
from tests.support.outbox import preferences_token
from tests.support.people import EMAIL_NORMALISED


def give(client, key, body):
    return client.http.post("/v1/consents", body=json.dumps(body),
                            headers=bearer(key, **{"Content-Type": "application/json"}))


def lookup(client, key, body):
    return client.http.post("/v1/consents/lookup", body=json.dumps(body),
                            headers=bearer(key, **{"Content-Type": "application/json"}))


def report(client, admin, body):
    response = lookup(client, admin, body)
    assert response.status_code == 200, response.body
    return body_of(response)


def read_link(client, token):
    return client.http.post("/v1/preferences/read", body=json.dumps({"token": token}),
                            headers={"Content-Type": "application/json"})


def test_consents_are_append_only_and_the_current_state_is_derived(client, widget, admin):
    first = give(client, widget, {"visitor_id": "v-12345678", "grants": {"performance": True, "advertising": False},
                                  "policy_version": "2026-11", "source": "cookie_banner"})
    assert first.status_code == 201 and body_of(first)["consent_id"].startswith("evt_")
    give(client, widget, {"visitor_id": "v-12345678", "grants": {"performance": False}, "policy_version": "2026-11"})
    state = report(client, admin, {"visitor_id": "v-12345678"})
    assert state["current"] == {"performance": False, "advertising": False}
    assert [h["grants"] for h in state["history"]] == [{"performance": True, "advertising": False},
                                                        {"performance": False}]


def test_consent_by_email_reaches_the_persons_lead(client, widget, admin):
    lead_id = body_of(post_lead(client, widget, lead_body()))["lead_id"]
    give(client, widget, {"email": EMAIL_NORMALISED.upper(), "grants": {"marketing_email": False},
                          "policy_version": "2026-11"})
    lead = body_of(client.http.get(f"/v1/leads/{lead_id}", headers=bearer(admin)))
    assert lead["consents"]["marketing_email"] is False and lead["consents"]["contact"] is True
    state = report(client, admin, {"email": EMAIL_NORMALISED})
    # contact (held), marketing_email (pending: the lead form's grant waits for the person), the withdrawal
    assert state["current"]["marketing_email"] is False and len(state["history"]) == 3
    assert sorted(h.get("pending", False) for h in state["history"]) == [False, False, True]


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
    agent = issue_key("agent", agent_id="asha")
    assert_error(give(client, agent, {"visitor_id": "v-12345678", "grants": {"contact": True},
                                      "policy_version": "1"}), 403, "forbidden")
    assert_error(lookup(client, issue_key("widget"), {"visitor_id": "v-12345678"}), 403, "forbidden")
    assert_error(lookup(client, agent, {"visitor_id": "v-12345678"}), 403, "forbidden")
    assert_error(client.http.post("/v1/consents/lookup", body=json.dumps({"visitor_id": "v-12345678"}),
                                  headers={"Content-Type": "application/json"}), 401, "unauthorized")


@pytest.mark.parametrize("body", [
    {},
    {"email": "a@example.org", "visitor_id": "v-12345678"},
    {"email": "a@example.org", "grants": {"contact": True}},
    {"email": 7},
    {"visitor_id": "short"},
    {"phone": "not a number"},
])
def test_bad_lookups_are_400(client, admin, body):
    error = assert_error(lookup(client, admin, body), 400, "validation_error")
    assert "a@example.org" not in json.dumps(error) and "not a number" not in json.dumps(error)


def test_a_lookup_is_audited_and_keeps_no_copy_to_replay(client, widget, admin, tenant):
    from chalicelib.services.audit import records_for_day
    from chalicelib.store.models.claims import IdempotencyRecord

    give(client, widget, {"visitor_id": "v-12345678", "grants": {"performance": True}, "policy_version": "1"})
    headers = bearer(admin, **{"Content-Type": "application/json", "Idempotency-Key": "lookup-1"})
    first = client.http.post("/v1/consents/lookup", body=json.dumps({"visitor_id": "v-12345678"}), headers=headers)
    assert first.status_code == 200 and body_of(first)["current"] == {"performance": True}
    assert body_of(first)["history"][0]["source"] == "api"
    assert [r for r in IdempotencyRecord.scan() if "#idem#" in r.pk] == []  # a read: no copy of it kept to replay
    reads = [(r.action, r.actor_key_id) for r in records_for_day(tenant, f"{clock.now():%Y-%m-%d}")
             if r.action == "consent.read"]
    assert reads == [("consent.read", admin["key_id"])]
    bad_key = bearer(admin, **{"Content-Type": "application/json", "Idempotency-Key": "é"})
    assert_error(client.http.post("/v1/consents/lookup", body=json.dumps({"visitor_id": "v-12345678"}),
                                  headers=bad_key), 400, "validation_error")


@pytest.mark.parametrize("query", ["email=meera%40example.org", "phone=%2B919876543210", "visitor_id=v-12345678",
                                   "email=meera%40example.org&phone=%2B919876543210", "anything=else", ""])
def test_identifiers_in_a_url_are_refused_naming_the_lookup(client, admin, query):
    error = assert_error(client.http.get(f"/v1/consents?{query}" if query else "/v1/consents",
                                         headers=bearer(admin)), 400, "use_post_lookup")
    assert "POST /v1/consents/lookup" in error["message"]
    shown = json.dumps(error)
    assert "meera" not in shown and "9876543210" not in shown and "v-12345678" not in shown and "else" not in shown


def test_preferences_link_shows_and_changes_marketing_choices(client, widget):
    client.http.post("/v1/privacy-requests", body=json.dumps({"type": "access", "email": EMAIL_NORMALISED}),
                     headers=bearer(widget, **{"Content-Type": "application/json"}))
    token = preferences_token(EMAIL_NORMALISED)
    shown = read_link(client, token)
    assert shown.status_code == 200
    assert body_of(client.http.get("/v1/preferences", headers={"X-Preferences-Token": token})) == body_of(shown)
    assert body_of(shown)["grants"] == {"marketing_calls": False, "marketing_email": False, "marketing_sms": False}
    changed = client.http.post("/v1/preferences", body=json.dumps({"token": token, "grants": {"marketing_sms": True}}),
                               headers={"Content-Type": "application/json"})
    assert changed.status_code == 200 and body_of(changed)["grants"]["marketing_sms"] is True
    assert body_of(read_link(client, token))["grants"]["marketing_sms"] is True


def test_tampered_or_expired_tokens_are_refused(client, widget, monkeypatch):
    client.http.post("/v1/privacy-requests", body=json.dumps({"type": "access", "email": EMAIL_NORMALISED}),
                     headers=bearer(widget, **{"Content-Type": "application/json"}))
    token = preferences_token(EMAIL_NORMALISED)
    payload, mac = token.split(".")
    for bad in (f"{payload}.{mac[:-2]}xx", f"{payload[:-2]}AA.{mac}", "nonsense", ""):
        assert_error(read_link(client, bad), 401, "unauthorized")
        assert_error(client.http.get("/v1/preferences", headers={"X-Preferences-Token": bad}), 401, "unauthorized")
    assert_error(client.http.get("/v1/preferences"), 401, "unauthorized")
    for body in ({}, {"token": 7}, {"token": None}):
        assert_error(client.http.post("/v1/preferences/read", body=json.dumps(body),
                                      headers={"Content-Type": "application/json"}), 401, "unauthorized")
    assert_error(client.http.post("/v1/preferences", body=json.dumps({"token": "x.y", "grants": {}}),
                                  headers={"Content-Type": "application/json"}), 401, "unauthorized")
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(clock.now() + timedelta(days=31)))
    assert_error(read_link(client, token), 401, "unauthorized")
    assert_error(client.http.get("/v1/preferences", headers={"X-Preferences-Token": token}), 401, "unauthorized")


def test_a_token_in_a_url_is_refused_naming_the_post(client, widget):
    client.http.post("/v1/privacy-requests", body=json.dumps({"type": "access", "email": EMAIL_NORMALISED}),
                     headers=bearer(widget, **{"Content-Type": "application/json"}))
    token = preferences_token(EMAIL_NORMALISED)
    for query in (f"token={quote(token)}", "token=nonsense", "other=1"):
        response = client.http.get(f"/v1/preferences?{query}", headers={"X-Preferences-Token": token})
        error = assert_error(response, 400, "use_post_lookup")
        assert "POST /v1/preferences/read" in error["message"]
        assert token not in response.body.decode() and "nonsense" not in response.body.decode()
    # The body form is strict once the token is good: no other keys.
    extra = client.http.post("/v1/preferences/read", body=json.dumps({"token": token, "grants": {}}),
                             headers={"Content-Type": "application/json"})
    assert_error(extra, 400, "validation_error")


def test_preferences_change_only_marketing(client, widget):
    client.http.post("/v1/privacy-requests", body=json.dumps({"type": "access", "email": EMAIL_NORMALISED}),
                     headers=bearer(widget, **{"Content-Type": "application/json"}))
    token = preferences_token(EMAIL_NORMALISED)
    response = client.http.post("/v1/preferences", body=json.dumps({"token": token, "grants": {"contact": False}}),
                                headers={"Content-Type": "application/json"})
    assert_error(response, 400, "validation_error")


def test_a_failure_to_check_a_token_is_ours_not_a_bad_link(client, widget, monkeypatch):
    from chalicelib.vault.master import FileMasterKey

    client.http.post("/v1/privacy-requests", body=json.dumps({"type": "access", "email": EMAIL_NORMALISED}),
                     headers=bearer(widget, **{"Content-Type": "application/json"}))
    token = preferences_token(EMAIL_NORMALISED)

    def throttled(self, wrapped, context):
        raise RuntimeError("the master key is throttled")

    monkeypatch.setattr(FileMasterKey, "unwrap", throttled)
    assert_error(read_link(client, token), 500, "internal_error")
    assert_error(client.http.get("/v1/preferences", headers={"X-Preferences-Token": token}), 500, "internal_error")


def test_after_erasure_the_preferences_link_keeps_marketing_off(client, admin):
    client.http.post("/v1/privacy-requests", body=json.dumps({"type": "erasure", "email": EMAIL_NORMALISED,
                                                              "verified_by_admin": True}),
                     headers=bearer(admin, **{"Content-Type": "application/json"}))
    assert invoke_job("privacy_worker", LocalContext("privacy_worker", timeout_s=60))["completed"] == 1
    token = preferences_token(EMAIL_NORMALISED)  # in the message saying the data was erased
    changed = client.http.post("/v1/preferences", body=json.dumps({"token": token,
                                                                    "grants": {"marketing_email": True}}),
                               headers={"Content-Type": "application/json"})
    assert changed.status_code == 200 and body_of(changed)["grants"]["marketing_email"] is False
    assert body_of(read_link(client, token))["grants"] == {"marketing_calls": False, "marketing_email": False,
                                                           "marketing_sms": False}
