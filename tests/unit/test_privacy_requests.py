"""Privacy requests: every lifecycle path, erasure that reaches every copy, access exports."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from chalicelib import clock
from chalicelib.jobs import invoke_job
from chalicelib.runtime import LocalContext
from tests.support.http import assert_error, bearer, body_of
from tests.support.leads import lead_body, post_lead
from tests.support.outbox import confirmation_link, download_link, last_code, messages
from tests.support.people import EMAIL, EMAIL_NORMALISED, PHONE, PLAINTEXT_MARKERS
from tests.support.tables import dump_text, scan_everything

OTHER = {"name": "Ravi Kumar", "phone": "+91 91234 56780", "email": "ravi.kumar@example.org"}




def send(client, key, path, body):
    return client.http.post(path, body=json.dumps(body), headers=bearer(key, **{"Content-Type": "application/json"}))


def file(client, key, **body):
    response = send(client, key, "/v1/privacy-requests", {"type": "erasure", "email": EMAIL, **body})
    assert response.status_code == 202, response.body
    return body_of(response)


def verify(client, key, request_id, code):
    return send(client, key, f"/v1/privacy-requests/{request_id}/verify", {"code": code})


def status(client, key, request_id):
    return body_of(client.http.get(f"/v1/privacy-requests/{request_id}", headers=bearer(key)))


def without_audit(dump) -> str:
    """Everything but the audit trail and the event log: ids only, kept for the audit retention (an erased
    lead's ``lead.erased`` is how the tenant's other systems learn to delete it)."""
    return dump_text({name: items for name, items in dump.items()
                      if not name.endswith(("audit_log", "events"))})


def work(timeout_s: float = 60.0):
    """One scheduled run, through the same entry point as Lambda and the CLI."""
    return invoke_job("privacy_worker", LocalContext("privacy_worker", timeout_s=timeout_s))


def test_intake_answers_the_same_whether_or_not_data_exists(client, widget, monkeypatch):
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(clock.now()))  # both filed in the same second
    post_lead(client, widget, lead_body())
    known = file(client, widget)
    unknown = file(client, widget, email="nobody@example.org")
    assert set(known) == set(unknown) == {"request_id", "status", "due_at"}
    assert known["status"] == unknown["status"] == "pending_verification"
    assert known["due_at"] == unknown["due_at"]
    assert last_code(EMAIL_NORMALISED) and last_code("nobody@example.org")


def test_verified_erasure_removes_everything_of_the_person_and_nothing_else(client, widget, admin, issue_key):
    ours = body_of(post_lead(client, widget, lead_body()))["lead_id"]
    theirs = body_of(post_lead(client, widget, lead_body(**OTHER)))["lead_id"]
    agent = issue_key("agent", agent_id="asha")
    send(client, admin, f"/v1/leads/{ours}", {})  # a harmless 4xx; the lead stays
    send(client, widget, "/v1/consents", {"phone": PHONE, "grants": {"marketing_sms": True}, "policy_version": "1"})
    request = file(client, widget)
    assert body_of(verify(client, widget, request["request_id"], last_code(EMAIL_NORMALISED))) == {"status": "verified"}
    assert work()["completed"] == 1
    done = status(client, widget, request["request_id"])
    assert done["status"] == "completed" and done["completed_at"]
    receipt = done["receipt"]
    # the form's contact grant, its pending marketing grant, and the pending marketing_sms grant
    assert (receipt["leads"], receipt["consents"], receipt["identity_claims"]) == (1, 3, 2)
    assert_error(client.http.get(f"/v1/leads/{ours}", headers=bearer(admin)), 404, "not_found")
    assert client.http.get(f"/v1/leads/{theirs}", headers=bearer(admin)).status_code == 200
    dump = scan_everything()
    text = dump_text(dump).lower()
    for marker in PLAINTEXT_MARKERS:
        assert marker.lower() not in text, marker
    assert ours not in without_audit(dump)  # only the audit trail and event log keep the bare id (no personal data)
    assert "ravi" not in text  # the other person is sealed as well, and still there:
    assert agent  # agents are untouched by a lead's erasure
    told = [m for m in messages() if m["to"] == EMAIL_NORMALISED]
    assert "erased" in told[-1]["text"] and told[-1]["kind"] == "legal"


def test_after_erasure_a_new_submission_is_a_new_lead_but_marketing_stays_off(client, widget, admin):
    first = body_of(post_lead(client, widget, lead_body()))["lead_id"]
    request = file(client, widget)
    verify(client, widget, request["request_id"], last_code(EMAIL_NORMALISED))
    work()
    again = post_lead(client, widget, lead_body())
    assert again.status_code == 201 and body_of(again)["lead_id"] != first
    # Even when the person confirms the marketing grant of the new submission, marketing stays off.
    token = confirmation_link(EMAIL_NORMALISED).split("#token=")[1]
    confirmed = client.http.post("/v1/confirmations", body=json.dumps({"token": token}),
                                 headers={"Content-Type": "application/json"})
    assert body_of(confirmed)["confirmed"]["purposes"] == ["marketing_email"]
    lead = body_of(client.http.get(f"/v1/leads/{body_of(again)['lead_id']}", headers=bearer(admin)))
    assert lead["consents"] == {"contact": True, "marketing_email": False}
    state = body_of(client.http.post("/v1/consents/lookup", body=json.dumps({"phone": PHONE}),
                                     headers=bearer(admin, **{"Content-Type": "application/json"})))
    assert state["suppressed"] is True and state["current"]["marketing_email"] is False


def test_wrong_codes_then_locked(client, widget):
    request = file(client, widget)
    right = last_code(EMAIL_NORMALISED)
    wrong = "000000" if right != "000000" else "111111"
    assert_error(verify(client, widget, request["request_id"], wrong), 400, "invalid_code")
    assert_error(verify(client, widget, request["request_id"], wrong), 400, "invalid_code")
    assert_error(verify(client, widget, request["request_id"], wrong), 429, "verification_locked")
    assert_error(verify(client, widget, request["request_id"], right), 429, "verification_locked")
    assert status(client, widget, request["request_id"])["status"] == "rejected"


def test_an_expired_code_is_410(client, widget, monkeypatch):
    request = file(client, widget)
    code = last_code(EMAIL_NORMALISED)
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(clock.now() + timedelta(minutes=11)))
    assert_error(verify(client, widget, request["request_id"], code), 410, "code_expired")


def test_unverified_requests_expire(client, widget, monkeypatch):
    request = file(client, widget)
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(clock.now() + timedelta(hours=25)))
    assert work()["expired"] == 1
    assert status(client, widget, request["request_id"])["status"] == "expired"


def test_admin_may_file_verified_and_it_is_audited(client, admin, widget, tenant):
    from chalicelib.services.audit import records_for_day

    post_lead(client, widget, lead_body())
    request = file(client, admin, verified_by_admin=True)
    assert request["status"] == "verified"
    assert not [m for m in messages() if "code is" in m["text"]]
    assert work()["completed"] == 1
    actions = [r.action for r in records_for_day(tenant, f"{clock.now():%Y-%m-%d}")]
    assert "privacy_request.file_verified_by_admin" in actions


def test_widgets_cannot_skip_verification(client, widget):
    response = send(client, widget, "/v1/privacy-requests", {"type": "erasure", "email": EMAIL,
                                                             "verified_by_admin": True})
    assert_error(response, 403, "forbidden")


def test_a_legal_hold_rejects_the_erasure_and_the_person_is_told(client, widget, admin):
    from chalicelib import invocation
    from chalicelib.store.models.leads import LeadRecord

    lead_id = body_of(post_lead(client, widget, lead_body()))["lead_id"]
    with invocation.invocation():
        LeadRecord(lead_id).update(actions=[LeadRecord.legal_hold.set(True)])
    request = file(client, admin, verified_by_admin=True)
    assert work()["rejected"] == 1
    done = status(client, admin, request["request_id"])
    assert done["status"] == "rejected" and done["rejection_reason"] == "legal_hold"
    assert client.http.get(f"/v1/leads/{lead_id}", headers=bearer(admin)).status_code == 200
    assert "legal hold" in messages()[-1]["text"]


def test_requests_are_invisible_to_other_tenants_and_other_widgets(client, widget, issue_key, operator):
    request = file(client, widget)
    other_widget = issue_key("widget")
    other_tenant = operator("admin_create_tenant", {"name": "Other", "default_region": "IN"})["tenant_id"]
    their_admin = operator("admin_issue_api_key", {"tenant_id": other_tenant, "role": "admin"})
    for key in (other_widget, their_admin):
        path = f"/v1/privacy-requests/{request['request_id']}"
        assert_error(client.http.get(path, headers=bearer(key)), 404, "not_found")
        assert_error(verify(client, key, request["request_id"], "123456"), 404, "not_found")
        assert_error(client.http.get(path + "/export", headers=bearer(key)), 404, "not_found")


def test_an_interrupted_erasure_finishes_on_the_next_run(client, widget, admin, monkeypatch):
    from chalicelib.services.rights import worker
    lead_id = body_of(post_lead(client, widget, lead_body()))["lead_id"]
    for n in range(6):
        post_lead(client, widget, lead_body(name=f"Priya {n}"))
    request = file(client, admin, verified_by_admin=True)
    checks = {"left": 4}

    class Dwindling:
        def get_remaining_time_in_millis(self):
            checks["left"] -= 1
            return 60_000 if checks["left"] > 0 else 0

    first = invoke_job("privacy_worker", Dwindling())
    assert first["unfinished"] == 1
    assert status(client, admin, request["request_id"])["status"] == "in_progress"
    assert_error(client.http.get(f"/v1/leads/{lead_id}", headers=bearer(admin)), 404, "not_found")  # key shredded
    monkeypatch.setattr(worker, "SAFETY_MS", 0)
    assert work()["completed"] == 1
    assert status(client, admin, request["request_id"])["status"] == "completed"
    assert lead_id not in without_audit(scan_everything())


def download(client, request_id, token):
    return client.http.post(f"/v1/privacy-requests/{request_id}/download", body=json.dumps({"token": token}),
                            headers={"Content-Type": "application/json"})


def test_access_export_holds_everything_decrypted_for_seven_days(client, widget, admin, monkeypatch):
    lead_id = body_of(post_lead(client, widget, lead_body(utm={"campaign": "diwali"})))["lead_id"]
    request = file(client, widget, type="access")
    export_path = f"/v1/privacy-requests/{request['request_id']}/export"
    # Asked for too early: "not ready yet" (and when to ask again), not "no export".
    for step in ("unverified", "verified"):
        early = client.http.get(export_path, headers=bearer(admin))
        assert_error(early, 409, "export_not_ready")
        assert early.headers["Retry-After"] == "60"
        assert "not ready yet" in body_of(early)["error"]["message"]
        if step == "unverified":
            verify(client, widget, request["request_id"], last_code(EMAIL_NORMALISED))
    # Without the link's token nothing shows, ready or not.
    assert_error(download(client, request["request_id"], "x" * 20), 401, "unauthorized")
    work()
    # The public key and the request id are not enough: the link sent to the verified address is.
    assert_error(client.http.get(export_path, headers=bearer(widget)), 403, "download_token_required")
    assert "ready" in messages()[-1]["text"]
    token = download_link(EMAIL_NORMALISED).split("&download=")[1]
    export = body_of(client.http.get(export_path, headers=bearer(widget, **{"X-Download-Token": token})))
    assert export["leads"][0]["lead_id"] == lead_id and export["leads"][0]["email"] == EMAIL_NORMALISED
    assert export["leads"][0]["utm"] == {"campaign": "diwali"}
    assert any(item["type"] == "consent" for item in export["timeline"])
    # single use, with the key or without it
    assert_error(client.http.get(export_path, headers=bearer(widget, **{"X-Download-Token": token})),
                 401, "unauthorized")
    assert_error(download(client, request["request_id"], token), 401, "unauthorized")
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(clock.now() + timedelta(days=8)))
    assert_error(client.http.get(export_path, headers=bearer(admin)), 410, "export_expired")


def test_an_erasure_request_has_no_export_and_says_so(client, admin):
    request = file(client, admin, verified_by_admin=True)
    error = assert_error(client.http.get(f"/v1/privacy-requests/{request['request_id']}/export",
                                         headers=bearer(admin)), 404, "not_found")
    assert "only an access request" in error["message"]


@pytest.mark.parametrize("body", [{"type": "delete", "email": EMAIL}, {"type": "erasure"},
                                  {"type": "erasure", "email": EMAIL, "phone": PHONE},
                                  {"type": "erasure", "email": "not-mail"},
                                  {"type": "erasure", "email": EMAIL, "x": 1}])
def test_bad_requests_are_400(client, widget, body):
    assert_error(send(client, widget, "/v1/privacy-requests", body), 400, "validation_error")


def test_codes_to_one_person_are_limited_and_the_limit_is_said(client, widget, monkeypatch):
    monkeypatch.setenv("LEADVAULT_NOW", "2026-11-20T09:30:00Z")  # one budget window throughout
    answers = [send(client, widget, "/v1/privacy-requests", {"type": "erasure", "email": EMAIL}) for _ in range(5)]
    assert [a.status_code for a in answers] == [202, 202, 202, 429, 429]
    assert {tuple(sorted(body_of(a))) for a in answers[:3]} == {("due_at", "request_id", "status")}
    assert_error(answers[3], 429, "rate_limited")
    assert 0 < int(answers[3].headers["Retry-After"]) <= 3600
    codes = [m for m in messages() if m["to"] == EMAIL_NORMALISED and "code is" in m["text"]]
    assert len(codes) == 3
    # The same answer for a person nobody knows: the limit tells nothing about who exists.
    unknown = [send(client, widget, "/v1/privacy-requests", {"type": "erasure", "email": "nobody@example.org"})
               for _ in range(4)]
    assert [a.status_code for a in unknown] == [202, 202, 202, 429]
    assert body_of(unknown[3])["error"] == body_of(answers[3])["error"]


def test_a_request_key_that_cannot_be_shredded_is_counted_and_the_request_still_closes(client, admin, monkeypatch):
    from pynamodb.exceptions import DeleteError

    from chalicelib.store import privacy

    def refused(tenant_id, subject_id):
        raise DeleteError("throttled")

    monkeypatch.setattr(privacy, "destroy_subject", refused)
    request = file(client, admin, verified_by_admin=True)
    summary = work()
    assert summary["completed"] == 1 and summary["keys_not_shredded"] == 1
    assert status(client, admin, request["request_id"])["status"] == "completed"
    assert work()["completed"] == 0  # closed: not picked up again
