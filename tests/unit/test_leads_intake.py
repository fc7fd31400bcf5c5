"""Lead intake rules: each with a failing and a passing case."""

from __future__ import annotations

import json

import pytest

from tests.support.http import assert_error, bearer, body_of
from tests.support.leads import lead_body, post_lead
from tests.support.outbox import confirmation_link, messages
from tests.support.people import EMAIL_NORMALISED, PHONE_E164
from tests.support.published import publish_versions
from tests.support.tables import scan_everything

CONTACT_ONLY = {"purposes": ["contact"], "policy_version": "2026-11"}


def confirm(client, link: str):
    return client.http.post("/v1/confirmations", body=json.dumps({"token": link.split("#token=")[1]}),
                            headers={"Content-Type": "application/json"})


def item_count() -> int:
    return sum(len(items) for items in scan_everything().values())




def read_lead(client, admin, lead_id):
    response = client.http.get(f"/v1/leads/{lead_id}", headers=bearer(admin))
    assert response.status_code == 200, response.body
    return body_of(response)


def test_new_lead_is_created_normalised(client, widget, admin):
    response = post_lead(client, widget, lead_body(name="  Priya Sharma ", email="Priya.Sharma+leads@Example.org"))
    assert response.status_code == 201
    answer = body_of(response)
    assert answer["status"] == "created" and answer["lead_id"].startswith("led_")
    assert answer["pending_purposes"] == ["marketing_email"]  # marketing waits for the person's confirmation
    lead = read_lead(client, admin, answer["lead_id"])
    assert lead["phone"] == PHONE_E164 and lead["email"] == EMAIL_NORMALISED and lead["name"] == "Priya Sharma"
    assert lead["consents"] == {"contact": True}
    assert lead["identity"] == {"phone": "given", "email": "given"} and lead["pending_identifiers"] == []
    assert lead["stage"] == "new" and lead["expires_at"] > lead["created_at"]


def test_phone_is_read_in_the_tenants_region(client, widget, admin):
    answer = body_of(post_lead(client, widget, lead_body(phone="098765 43210", email=None)))
    assert read_lead(client, admin, answer["lead_id"])["phone"] == PHONE_E164


@pytest.mark.parametrize(
    ("change", "field"),
    [({"phone": "12345"}, "phone"), ({"email": "not-an-email"}, "email"),
     ({"phone": None, "email": None}, "phone|email"),
     ({"name": 42}, "name"), ({"recording_url": "x"}, "recording_url"), ({"name": "a\u0000b"}, None),
     ({"name": "Pri\u200bya"}, "name"), ({"consent": {"purposes": ["spying"], "policy_version": "1"}}, None),
     ({"date_of_birth": "31-12-1990"}, "date_of_birth"), ({"utm": {"source": "x", "gclid": "y"}}, "utm.gclid")],
)
def test_invalid_submissions_are_400_and_store_nothing(client, widget, change, field):
    before = item_count()
    error = assert_error(post_lead(client, widget, lead_body(**change)), 400, "validation_error")
    if field:
        assert field in [d["field"] for d in error.get("details", [])], error
    assert item_count() == before


@pytest.mark.parametrize("raw", [b"{", b"[]", b'{"phone": "\\udc00"}'])
def test_malformed_bodies_store_nothing(client, widget, raw):
    before = item_count()
    assert post_lead(client, widget, raw).status_code == 400
    assert item_count() == before


def test_minors_are_refused_and_nothing_is_stored_or_logged(client, widget, capfd, monkeypatch):
    monkeypatch.setenv("LEADVAULT_NOW", "2026-03-01T00:30:00Z")  # the service's day, in UTC
    seventeen = "2009-03-01"  # eighteen tomorrow
    before = item_count()
    capfd.readouterr()
    assert_error(post_lead(client, widget, lead_body(date_of_birth=seventeen)), 400, "minor")
    assert item_count() == before
    logged = capfd.readouterr()
    assert seventeen not in logged.out + logged.err and "9876543210" not in logged.out + logged.err


def test_an_adult_on_their_eighteenth_birthday_is_accepted(client, widget, monkeypatch):
    monkeypatch.setenv("LEADVAULT_NOW", "2026-03-01T23:30:00Z")  # late in the day, in UTC
    assert post_lead(client, widget, lead_body(date_of_birth="2008-03-01")).status_code == 201


def test_date_of_birth_is_checked_but_not_kept(client, widget, admin):
    answer = body_of(post_lead(client, widget, lead_body(date_of_birth="1990-05-17")))
    lead = read_lead(client, admin, answer["lead_id"])
    assert "1990-05-17" not in json.dumps(lead)


def test_widget_submission_without_contact_consent_is_refused(client, widget):
    for consent in (None, {"purposes": ["marketing_email"], "policy_version": "1"}):
        before = item_count()
        assert_error(post_lead(client, widget, lead_body(consent=consent)), 400, "consent_required")
        assert item_count() == before


def test_staff_may_enter_a_lead_without_consent(client, issue_key, admin):
    agent = issue_key("agent", agent_id="field-1")
    answer = body_of(post_lead(client, agent, lead_body(consent=None)))
    assert read_lead(client, admin, answer["lead_id"])["lawful_basis"] == "legitimate_interest"


def test_tenant_with_legitimate_interest_accepts_widget_leads_without_consent(client, operator, tables):
    tenant = operator("admin_create_tenant", {"name": "LI", "default_region": "IN",
                                              "lawful_basis": "legitimate_interest"})["tenant_id"]
    widget = operator("admin_issue_api_key", {"tenant_id": tenant, "role": "widget"})
    assert post_lead(client, widget, lead_body(consent=None)).status_code == 201


def merged(response) -> tuple[str, str]:
    answer = body_of(response)
    return answer["lead_id"], answer["status"]


def test_a_public_submission_of_the_same_person_fills_gaps_and_changes_nothing(client, widget, admin):
    first = body_of(post_lead(client, widget, lead_body(name="Priya")))
    again = post_lead(client, widget, lead_body(name="Priya S.", utm={"campaign": "diwali"}))
    assert again.status_code == 200
    assert merged(again) == (first["lead_id"], "merged")
    lead = read_lead(client, admin, first["lead_id"])
    assert lead["name"] == "Priya" and lead["email"] == EMAIL_NORMALISED and lead["utm"] == {"campaign": "diwali"}
    timeline = body_of(client.http.get(f"/v1/leads/{first['lead_id']}/timeline", headers=bearer(admin)))["items"]
    submissions = [item for item in timeline if item["type"] == "submission"]
    assert len(submissions) == 2 and submissions[0]["changed"] == ["utm.campaign"]
    assert submissions[0]["values"]["name"] == "Priya S."  # what was submitted stays on the timeline for staff


def test_a_staff_submission_of_the_same_person_merges_keeping_newer_values(client, widget, admin):
    first = body_of(post_lead(client, widget, lead_body(name="Priya")))
    again = post_lead(client, admin, lead_body(name="Priya S.", email="priya.s@example.org"))
    assert merged(again) == (first["lead_id"], "merged")
    lead = read_lead(client, admin, first["lead_id"])
    assert lead["name"] == "Priya S." and lead["email"] == "priya.s@example.org"
    assert lead["identity"] == {"phone": "given", "email": "staff"}
    # the replaced e-mail no longer finds the lead; the new one does
    assert merged(post_lead(client, widget, lead_body(phone=None, email="priya.s@example.org"))) == \
        (first["lead_id"], "merged")
    assert body_of(post_lead(client, widget, lead_body(phone=None)))["status"] == "created"


def test_email_alone_finds_the_same_person(client, widget):
    first = body_of(post_lead(client, widget, lead_body()))
    again = post_lead(client, widget, lead_body(phone=None, email="PRIYA.SHARMA+leads@example.org"))
    assert merged(again) == (first["lead_id"], "merged")


def test_a_new_identifier_joins_the_person_once_proven_through_the_known_one(client, widget, admin):
    first = body_of(post_lead(client, widget, lead_body(email=None, consent=CONTACT_ONLY)))
    second = body_of(post_lead(client, widget, lead_body(email="new@example.org", consent=CONTACT_ONLY)))
    assert second["pending_identifiers"] == ["email"]
    lead = read_lead(client, admin, first["lead_id"])
    assert lead["email"] is None and [p["kind"] for p in lead["pending_identifiers"]] == ["email"]
    # the link goes to the phone the lead already had, never to the new address
    assert not [m for m in messages() if m["to"] == "new@example.org"]
    link = confirmation_link(PHONE_E164)
    assert "adding the e-mail address new@example.org" in [m for m in messages() if m["to"] == PHONE_E164][-1]["text"]
    confirmed = confirm(client, link)
    assert confirmed.status_code == 200 and body_of(confirmed)["confirmed"]["identifiers"] == ["email"]
    third = body_of(post_lead(client, widget, lead_body(phone=None, email="new@example.org", consent=CONTACT_ONLY)))
    assert third["lead_id"] == first["lead_id"]
    lead = read_lead(client, admin, first["lead_id"])
    assert lead["email"] == "new@example.org" and lead["identity"] == {"phone": "given", "email": "proven"}
    assert_error(confirm(client, link), 401, "unauthorized")  # single use


def test_a_submission_linking_two_leads_does_not_merge_them(client, widget, admin):
    by_phone = body_of(post_lead(client, widget, lead_body(email=None)))
    by_email = body_of(post_lead(client, widget, lead_body(phone="+91 91234 56789", email="other@example.org")))
    linking = post_lead(client, widget, lead_body(email="other@example.org"))
    assert merged(linking) == (by_phone["lead_id"], "merged")
    assert "pending_identifiers" not in body_of(linking)  # another lead's e-mail is never put on this one
    assert read_lead(client, admin, by_email["lead_id"])["email"] == "other@example.org"
    timeline = body_of(client.http.get(f"/v1/leads/{by_phone['lead_id']}/timeline", headers=bearer(admin)))["items"]
    newest_submission = next(item for item in timeline if item["type"] == "submission")
    assert newest_submission["possible_duplicate_of"] == [by_email["lead_id"]]


def test_tenants_are_kept_apart_even_for_the_same_person(client, widget, operator, tables):
    other = operator("admin_create_tenant", {"name": "Other", "default_region": "IN"})["tenant_id"]
    publish_versions(other)
    other_widget = operator("admin_issue_api_key", {"tenant_id": other, "role": "widget"})
    ours = body_of(post_lead(client, widget, lead_body()))
    theirs = post_lead(client, other_widget, lead_body())
    assert theirs.status_code == 201 and body_of(theirs)["lead_id"] != ours["lead_id"]


def test_idempotency_key_replays_and_conflicts(client, widget):
    first = post_lead(client, widget, lead_body(), **{"Idempotency-Key": "abc-123"})
    replay = post_lead(client, widget, lead_body(), **{"Idempotency-Key": "abc-123"})
    assert (replay.status_code, body_of(replay)) == (first.status_code, body_of(first)) == (201, body_of(first))
    assert_error(post_lead(client, widget, lead_body(name="Else"), **{"Idempotency-Key": "abc-123"}),
                 409, "idempotency_conflict")
    merged = post_lead(client, widget, lead_body(), **{"Idempotency-Key": "other-key"})
    assert merged.status_code == 200


def test_bad_idempotency_keys_are_refused(client, widget):
    assert_error(post_lead(client, widget, lead_body(), **{"Idempotency-Key": "x" * 300}), 400, "validation_error")


def test_consent_goes_into_the_ledger(client, widget, admin):
    answer = body_of(post_lead(client, widget, lead_body()))
    timeline = body_of(client.http.get(f"/v1/leads/{answer['lead_id']}/timeline", headers=bearer(admin)))["items"]
    consent = sorted((item for item in timeline if item["type"] == "consent"),
                     key=lambda item: bool(item.get("pending")))
    assert [item["grants"] for item in consent] == [{"contact": True}, {"marketing_email": True}]
    assert [item.get("pending", False) for item in consent] == [False, True]
    assert {item["policy_version"] for item in consent} == {"2026-11"}


def test_ip_and_user_agent_are_minimised(client, widget, admin):
    headers = {"User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                             "Chrome/120.0.0.0 Safari/537.36"}
    answer = body_of(post_lead(client, widget, lead_body(), **headers))
    timeline = body_of(client.http.get(f"/v1/leads/{answer['lead_id']}/timeline", headers=bearer(admin)))["items"]
    first = timeline[-1]
    assert first["first"] and first["browser"] == "Chrome" and first["os"] == "Windows"
    assert "120.0.0.0" not in json.dumps(timeline)


def test_no_plaintext_identifier_in_a_raw_scan(client, widget):
    from tests.support.people import PLAINTEXT_MARKERS
    from tests.support.tables import dump_text

    post_lead(client, widget, lead_body(fields={}, utm={"campaign": "Priya"}))
    text = dump_text(scan_everything()).lower()
    for marker in PLAINTEXT_MARKERS:
        assert marker.lower() not in text, marker


def test_a_stale_claim_does_not_hide_a_live_lead_of_the_same_person(client, widget, admin, monkeypatch):
    from datetime import timedelta

    from chalicelib import clock

    start = clock.now()
    by_phone = body_of(post_lead(client, widget, lead_body(email=None)))["lead_id"]
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(start + timedelta(days=200)))
    by_email = body_of(post_lead(client, widget, lead_body(phone=None)))["lead_id"]
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(start + timedelta(days=366)))  # the phone's lead has expired
    both = post_lead(client, admin, lead_body())  # staff: the phone joins the live lead at once
    assert merged(both) == (by_email, "merged") and by_email != by_phone
    again = post_lead(client, widget, lead_body(email=None))
    assert merged(again) == (by_email, "merged")  # the phone moved to the live lead
