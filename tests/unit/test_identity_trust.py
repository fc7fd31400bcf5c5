"""Issue 12's findings, replayed as an attacker would: the public widget key plus a phone or e-mail.

Each test first shows what the attacker tries, then that it gives them nothing and leaves the
victim's lead, data and messages as they were.
"""

from __future__ import annotations

import json

import pytest

from chalicelib.jobs import invoke_job
from chalicelib.runtime import LocalContext
from tests.support.http import assert_error, bearer, body_of
from tests.support.leads import lead_body, post_lead
from tests.support.outbox import confirmation_link, last_code, messages
from tests.support.people import EMAIL_NORMALISED, PHONE, PHONE_E164, PLAINTEXT_MARKERS

ATTACKER = "mallory@example.net"
CONTACT = {"purposes": ["contact"], "policy_version": "2026-11"}


@pytest.fixture(autouse=True)
def mid_hour(monkeypatch):
    """Budgets count per clock hour: a fixed time keeps a test from straddling two windows."""
    monkeypatch.setenv("LEADVAULT_NOW", "2026-11-20T09:30:00Z")


def send(client, key, path, body, **headers):
    return client.http.post(path, body=json.dumps(body),
                            headers=bearer(key, **{"Content-Type": "application/json", **headers}))


def keyless(client, path, body):
    return client.http.post(path, body=json.dumps(body), headers={"Content-Type": "application/json"})


def work():
    return invoke_job("privacy_worker", LocalContext("privacy_worker"))


def read_lead(client, admin, lead_id):
    return body_of(client.http.get(f"/v1/leads/{lead_id}", headers=bearer(admin)))


def to(address):
    return [m for m in messages() if m["to"] == address]


@pytest.fixture
def from_address(monkeypatch):
    """Requests from another client address (the local gateway's source IP)."""
    from chalice.local import LambdaEventConverter

    def use(ip: str) -> None:
        monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", ip)

    return use


@pytest.mark.parametrize("victim_email", [EMAIL_NORMALISED, None])
def test_takeover_through_a_merge_gives_the_attacker_nothing(client, widget, admin, victim_email):
    victim = body_of(post_lead(client, widget, lead_body(email=victim_email, consent=CONTACT)))["lead_id"]
    before = read_lead(client, admin, victim)

    merged = post_lead(client, widget, lead_body(name="Mallory", phone=PHONE, email=ATTACKER,
                                                 fields={}, consent=CONTACT))
    assert merged.status_code == 200 and body_of(merged)["pending_identifiers"] == ["email"]
    after = read_lead(client, admin, victim)
    assert (after["email"], after["phone"], after["name"]) == (before["email"], before["phone"], before["name"])
    assert [p["kind"] for p in after["pending_identifiers"]] == ["email"]
    # The confirmation asks the victim, on the address the lead already had; the attacker gets nothing.
    assert to(ATTACKER) == []
    asked = to(victim_email) if victim_email else to(PHONE_E164)
    # the victim sees exactly which address someone tried to put on their details, whole
    wording = f"replacing the e-mail address we have for you with {ATTACKER}" if victim_email \
        else f"adding the e-mail address {ATTACKER}"
    assert asked and "/v1/pages/confirm#token=" in asked[-1]["text"] and wording in asked[-1]["text"]

    # An access request for the attacker's e-mail finds no lead: the pending e-mail reaches nothing.
    access = body_of(send(client, widget, "/v1/privacy-requests", {"type": "access", "email": ATTACKER}))
    send(client, widget, f"/v1/privacy-requests/{access['request_id']}/verify", {"code": last_code(ATTACKER)})
    work()
    ready = [m for m in to(ATTACKER) if "/v1/pages/privacy#request=" in m["text"]][-1]
    token = ready["text"].split("&download=")[1].split()[0]
    export = body_of(keyless(client, f"/v1/privacy-requests/{access['request_id']}/download", {"token": token}))
    assert export["leads"] == [] and export["calls"] == []
    assert not any(marker.lower() in json.dumps(export).lower() for marker in PLAINTEXT_MARKERS)

    # Nor does an erasure request: the victim's lead stays.
    erasure = body_of(send(client, widget, "/v1/privacy-requests", {"type": "erasure", "email": ATTACKER}))
    send(client, widget, f"/v1/privacy-requests/{erasure['request_id']}/verify", {"code": last_code(ATTACKER)})
    work()
    assert read_lead(client, admin, victim)["phone"] == PHONE_E164

    # Consent lookups by the attacker's address find no lead either.
    looked_up = body_of(send(client, admin, "/v1/consents/lookup", {"email": ATTACKER}))
    assert looked_up["history"] == []
    # And a later submission with the attacker's e-mail alone is a lead of its own, not the victim's.
    alone = body_of(post_lead(client, widget, lead_body(phone=None, email=ATTACKER, consent=CONTACT)))
    assert alone["status"] == "created" and alone["lead_id"] != victim


def test_staff_may_accept_a_pending_identifier_and_it_is_audited(client, widget, admin, tenant):
    from chalicelib import clock
    from chalicelib.services.audit import records_for_day

    lead_id = body_of(post_lead(client, widget, lead_body(email=None, consent=CONTACT)))["lead_id"]
    post_lead(client, widget, lead_body(email="new@example.org", consent=CONTACT))
    accept = f"/v1/leads/{lead_id}/identifiers/accept"
    assert_error(send(client, widget, accept, {"kind": "email"}), 403, "forbidden")
    assert_error(send(client, admin, accept, {"kind": "phone"}), 404, "not_found")
    accepted = send(client, admin, accept, {"kind": "email"})
    assert accepted.status_code == 200
    lead = body_of(accepted)
    assert lead["email"] == "new@example.org" and lead["identity"]["email"] == "staff"
    assert lead["pending_identifiers"] == []
    actions = [(r.action, r.object_id) for r in records_for_day(tenant, f"{clock.now():%Y-%m-%d}")]
    assert ("lead.identifier_accept", lead_id) in actions
    again = body_of(post_lead(client, widget, lead_body(phone=None, email="new@example.org", consent=CONTACT)))
    assert again["lead_id"] == lead_id


def test_forged_marketing_consent_waits_for_the_addresss_owner(client, widget, admin):
    lead_id = body_of(post_lead(client, widget, lead_body(consent=CONTACT)))["lead_id"]
    # an e-mail cannot confirm texts or calls to a phone
    assert_error(send(client, widget, "/v1/consents", {"email": EMAIL_NORMALISED, "policy_version": "2026-11",
                                                       "grants": {"marketing_sms": True}}), 400, "validation_error")
    answer = send(client, widget, "/v1/consents", {"email": EMAIL_NORMALISED, "policy_version": "2026-11",
                                                   "grants": {"marketing_email": True}})
    assert answer.status_code == 201
    assert body_of(answer)["pending_purposes"] == ["marketing_email"]
    assert read_lead(client, admin, lead_id)["consents"] == {"contact": True}
    state = body_of(send(client, admin, "/v1/consents/lookup", {"email": EMAIL_NORMALISED}))
    assert "marketing_email" not in state["current"]
    assert [h["grants"] for h in state["history"] if h.get("pending")] == [{"marketing_email": True}]
    # The confirmation is transactional, goes to the address itself, and sells nothing.
    message = to(EMAIL_NORMALISED)[-1]
    assert message["kind"] == "system" and "confirm" in message["text"]
    confirmed = keyless(client, "/v1/confirmations", {"token": confirmation_link(EMAIL_NORMALISED).split("#token=")[1]})
    assert body_of(confirmed)["confirmed"]["purposes"] == ["marketing_email"]
    assert read_lead(client, admin, lead_id)["consents"] == {"contact": True, "marketing_email": True}
    state = body_of(send(client, admin, "/v1/consents/lookup", {"email": EMAIL_NORMALISED}))
    proof = [h for h in state["history"] if h.get("source") == "double_opt_in"]
    assert len(proof) == 1 and proof[0]["confirms"] and proof[0]["policy_version"] == "2026-11"
    # Withdrawing needs no confirmation, and holds at once.
    send(client, widget, "/v1/consents", {"email": EMAIL_NORMALISED, "grants": {"marketing_email": False},
                                          "policy_version": "2026-11"})
    assert read_lead(client, admin, lead_id)["consents"]["marketing_email"] is False


def test_staff_consents_and_cookie_choices_need_no_confirmation(client, widget, admin):
    staff = body_of(send(client, admin, "/v1/consents", {"email": EMAIL_NORMALISED, "policy_version": "1",
                                                         "grants": {"marketing_email": True}, "source": "phone"}))
    assert staff["pending_purposes"] == []
    cookies = body_of(send(client, widget, "/v1/consents", {"visitor_id": "v-12345678", "policy_version": "1",
                                                            "grants": {"performance": True}}))
    assert cookies["pending_purposes"] == []
    assert_error(send(client, widget, "/v1/consents", {"visitor_id": "v-12345678", "policy_version": "1",
                                                       "grants": {"marketing_email": True}}), 400, "validation_error")


def test_a_confirmation_link_is_single_use_and_unforgeable(client, widget):
    post_lead(client, widget, lead_body())
    token = confirmation_link(EMAIL_NORMALISED).split("#token=")[1]
    assert_error(keyless(client, "/v1/confirmations", {"token": token[:-2] + "xx"}), 401, "unauthorized")
    assert keyless(client, "/v1/confirmations", {"token": token}).status_code == 200
    assert_error(keyless(client, "/v1/confirmations", {"token": token}), 401, "unauthorized")
    assert_error(keyless(client, "/v1/confirmations", {"token": token, "extra": 1}), 400, "validation_error")


def test_sms_pumping_stops_at_the_budget_and_nothing_is_stored(client, widget, operator, tenant, from_address):
    from tests.support.tables import scan_everything

    operator("admin_set_budgets", {"tenant_id": tenant, "budgets": {"sms_per_key_hour": 5}})
    answers = []
    for n in range(30):
        from_address(f"203.0.{n}.7")  # a new client address each time: only the key's budget can stop it
        answers.append(send(client, widget, "/v1/privacy-requests",
                            {"type": "erasure", "phone": f"+91 98000 100{n:02d}"}))
    statuses = [a.status_code for a in answers]
    assert statuses[:5] == [202] * 5 and set(statuses[5:]) == {429}
    refused = assert_error(answers[5], 429, "rate_limited")
    assert "98000" not in refused["message"] and int(answers[5].headers["Retry-After"]) > 0
    sms = [m for m in messages() if m.get("channel") == "sms" or str(m.get("to", "")).startswith("+")]
    assert len(sms) == 5
    stored = scan_everything()
    requests = next(items for name, items in stored.items() if name.endswith("privacy_requests"))
    assert len(requests) == 5


def test_one_client_address_cannot_flood_with_messages(client, widget):
    answers = [send(client, widget, "/v1/privacy-requests", {"type": "access", "email": f"p{n}@example.org"})
               for n in range(12)]
    assert [a.status_code for a in answers].count(202) == 10  # privacy requests per client address and hour
    assert_error(answers[-1], 429, "rate_limited")


def test_a_person_cannot_be_locked_out_by_requests_others_file(client, widget, from_address):
    from_address("198.51.100.9")
    attacks = [send(client, widget, "/v1/privacy-requests", {"type": "erasure", "email": EMAIL_NORMALISED})
               for _ in range(4)]
    assert [a.status_code for a in attacks] == [202, 202, 202, 429]
    codes_before = len([m for m in to(EMAIL_NORMALISED) if "code is" in m["text"]])
    from_address("192.0.2.44")  # the person, from their own network
    own = send(client, widget, "/v1/privacy-requests", {"type": "erasure", "email": EMAIL_NORMALISED})
    assert own.status_code == 202
    assert len([m for m in to(EMAIL_NORMALISED) if "code is" in m["text"]]) == codes_before + 1
    verified = send(client, widget, f"/v1/privacy-requests/{body_of(own)['request_id']}/verify",
                    {"code": last_code(EMAIL_NORMALISED)})
    assert body_of(verified) == {"status": "verified"}


def test_the_export_needs_the_link_not_the_request_id(client, widget, admin):
    post_lead(client, widget, lead_body())
    filed = body_of(send(client, widget, "/v1/privacy-requests", {"type": "access", "email": EMAIL_NORMALISED}))
    code_message = to(EMAIL_NORMALISED)[-1]["text"]
    assert filed["request_id"] in code_message  # anyone who sees this message knows the id...
    send(client, widget, f"/v1/privacy-requests/{filed['request_id']}/verify", {"code": last_code(EMAIL_NORMALISED)})
    work()
    export_path = f"/v1/privacy-requests/{filed['request_id']}/export"
    # ...and that, with the public key, opens nothing
    assert_error(client.http.get(export_path, headers=bearer(widget)), 403, "download_token_required")
    assert_error(client.http.get(export_path, headers=bearer(widget, **{"X-Download-Token": "x" * 22})),
                 401, "unauthorized")
    assert_error(keyless(client, f"/v1/privacy-requests/{filed['request_id']}/download", {"token": "x" * 22}),
                 401, "unauthorized")
    # A download link of another request does not open this one.
    other = body_of(send(client, admin, "/v1/privacy-requests", {"type": "access", "email": "a@example.org",
                                                                 "verified_by_admin": True}))
    work()
    other_token = [m for m in to("a@example.org") if "&download=" in m["text"]][-1]["text"] \
        .split("&download=")[1].split()[0]
    assert_error(keyless(client, f"/v1/privacy-requests/{filed['request_id']}/download", {"token": other_token}),
                 401, "unauthorized")
    assert other["request_id"] != filed["request_id"]


def test_a_lead_forms_marketing_is_confirmed_by_the_address_it_would_reach(client, widget, admin):
    """An attacker's e-mail beside a victim's phone cannot confirm texts to that phone."""
    body = lead_body(email=ATTACKER, consent={"purposes": ["contact", "marketing_sms", "marketing_email"],
                                              "policy_version": "2026-11"})
    lead_id = body_of(post_lead(client, widget, body))["lead_id"]
    to_email = [m for m in to(ATTACKER) if "/v1/pages/confirm#token=" in m["text"]]
    to_phone = [m for m in to(PHONE_E164) if "/v1/pages/confirm#token=" in m["text"]]
    assert len(to_email) == 1 and "offers by e-mail" in to_email[0]["text"] and "text" not in to_email[0]["text"]
    assert len(to_phone) == 1 and "offers by text message" in to_phone[0]["text"]
    confirmed = keyless(client, "/v1/confirmations", {"token": confirmation_link(ATTACKER).split("#token=")[1]})
    assert body_of(confirmed)["confirmed"]["purposes"] == ["marketing_email"]
    assert read_lead(client, admin, lead_id)["consents"] == {"contact": True, "marketing_email": True}


def test_a_squatted_phone_does_not_hand_the_squatter_what_the_victim_submits(client, widget, admin):
    """The attacker creates a lead first with the victim's phone and their own e-mail; the victim's
    later submission lands there, but an access request through the attacker's e-mail gets none of it."""
    squat = body_of(post_lead(client, widget, lead_body(name=None, email=ATTACKER, consent=CONTACT)))["lead_id"]
    victim = post_lead(client, widget, lead_body(name="Priya Sharma", email="priya@example.org", consent=CONTACT,
                                                 utm={"campaign": "diwali"}))
    assert body_of(victim)["lead_id"] == squat and body_of(victim)["pending_identifiers"] == ["email"]
    lead = read_lead(client, admin, squat)
    assert lead["name"] is None and lead["utm"] == {}  # nothing the victim typed filled the squatted lead
    access = body_of(send(client, widget, "/v1/privacy-requests", {"type": "access", "email": ATTACKER}))
    send(client, widget, f"/v1/privacy-requests/{access['request_id']}/verify", {"code": last_code(ATTACKER)})
    work()
    ready = [m for m in to(ATTACKER) if "/v1/pages/privacy#request=" in m["text"]][-1]
    token = ready["text"].split("&download=")[1].split()[0]
    export = json.dumps(body_of(keyless(client, f"/v1/privacy-requests/{access['request_id']}/download",
                                        {"token": token})))
    assert "Priya" not in export and "priya@example.org" not in export and "diwali" not in export
    assert "values_withheld" in export


def test_a_confirmed_replacement_releases_the_old_address(client, widget, admin):
    lead_id = body_of(post_lead(client, widget, lead_body(consent=CONTACT)))["lead_id"]
    post_lead(client, widget, lead_body(email="priya.new@example.org", consent=CONTACT))
    link = confirmation_link(EMAIL_NORMALISED)  # asked on the address the lead already had
    assert "replacing the e-mail address we have for you with priya.new@example.org" in to(EMAIL_NORMALISED)[-1]["text"]
    assert body_of(keyless(client, "/v1/confirmations", {"token": link.split("#token=")[1]}))["confirmed"] == {
        "purposes": [], "identifiers": ["email"]}
    lead = read_lead(client, admin, lead_id)
    assert lead["email"] == "priya.new@example.org" and lead["identity"]["email"] == "proven"
    # the old address no longer reaches the lead: alone, it makes a lead of its own
    assert body_of(post_lead(client, widget, lead_body(phone=None, consent=CONTACT)))["status"] == "created"
