"""Grievances: raised through the portal, verified by code, told to the officer, answered by staff."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from chalicelib import clock
from chalicelib.store.models.grievances import GrievanceRecord
from tests.support.http import assert_error, bearer, body_of
from tests.support.outbox import last_code, messages
from tests.support.people import EMAIL, EMAIL_NORMALISED, PHONE, PHONE_E164, PLAINTEXT_MARKERS
from tests.support.tables import dump_text, scan_everything

COMPLAINT = "Your agent Mallikarjun kept calling me after I said no, seven times on Sunday."
OFFICER = {"name": "Meera Iyer", "email": "Grievance@Acme.example"}
OFFICER_EMAIL = "grievance@acme.example"


def send(client, key, path, body):
    return client.http.post(path, body=json.dumps(body), headers=bearer(key, **{"Content-Type": "application/json"}))


def get(client, key, path):
    return client.http.get(path, headers=bearer(key))


@pytest.fixture
def officer(operator, tenant):
    answer = operator("admin_set_grievance_officer", {"tenant_id": tenant, "grievance_officer": OFFICER})
    assert answer["grievance_officer"]["contact"] == OFFICER_EMAIL, answer
    return answer


def raise_one(client, key, text=COMPLAINT, **address):
    response = send(client, key, "/v1/grievances", {**(address or {"email": EMAIL}), "text": text})
    assert response.status_code == 202, response.body
    return body_of(response)


def verify(client, key, grievance_id, code):
    return send(client, key, f"/v1/grievances/{grievance_id}/verify", {"code": code})


def raised_and_verified(client, key, to=EMAIL_NORMALISED, **address):
    filed = raise_one(client, key, **address)
    assert body_of(verify(client, key, filed["grievance_id"], last_code(to))) == {"status": "open"}
    return filed["grievance_id"]


def wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def audit_actions() -> list[str]:
    return [item["action"]["S"] for name, items in scan_everything().items() if name.endswith("audit_log")
            for item in items]


def test_a_complaint_reaches_the_officer_and_the_answer_reaches_the_person(client, widget, admin, officer, capsys):
    filed = raise_one(client, widget)
    assert set(filed) == {"grievance_id", "status", "due_at"} and filed["status"] == "pending_verification"
    due = clock.parse_timestamp(filed["due_at"])
    assert timedelta(days=89, hours=23) < due - clock.now() <= timedelta(days=90)
    code_message = messages()[-1]
    assert code_message["to"] == EMAIL_NORMALISED and "Meera Iyer (grievance@acme.example)" in code_message["text"]
    assert COMPLAINT not in code_message["text"]

    grievance_id = filed["grievance_id"]
    assert body_of(verify(client, widget, grievance_id, last_code(EMAIL_NORMALISED))) == {"status": "open"}
    to_officer = [m for m in messages() if m["to"] == OFFICER_EMAIL]
    assert len(to_officer) == 1
    assert "Acme Leads" in to_officer[0]["subject"] and "Mallikarjun" not in to_officer[0]["subject"]
    assert COMPLAINT in to_officer[0]["text"] and grievance_id in to_officer[0]["text"]
    acknowledged = [m for m in messages() if m["to"] == EMAIL_NORMALISED][-1]
    assert "received" in acknowledged["text"] and "Meera Iyer" in acknowledged["text"]
    # verified again (a retry): still open, nothing sent twice
    assert body_of(verify(client, widget, grievance_id, "123456")) == {"status": "open"}
    assert len([m for m in messages() if m["to"] == OFFICER_EMAIL]) == 1

    queue = body_of(get(client, admin, "/v1/grievances?status=open"))
    assert [item["grievance_id"] for item in queue["items"]] == [grievance_id] and queue["next_cursor"] is None
    assert "text" not in queue["items"][0] and queue["items"][0]["overdue"] is False
    view = body_of(get(client, admin, f"/v1/grievances/{grievance_id}"))
    assert (view["status"], view["text"], view["contact"], view["officer_notified"]) == (
        "open", COMPLAINT, EMAIL_NORMALISED, True)

    answered = body_of(send(client, admin, f"/v1/grievances/{grievance_id}/answer",
                            {"text": "We are sorry. Mallikarjun no longer calls people who said no."}))
    assert (answered["status"], answered["answer_sent"]) == ("answered", True) and answered["answered_at"]
    reply = [m for m in messages() if m["to"] == EMAIL_NORMALISED][-1]
    assert "no longer calls" in reply["text"] and "Meera Iyer (grievance@acme.example)" in reply["text"]
    assert reply["kind"] == "legal" and "COMPLAINT" not in reply["subject"]
    assert body_of(get(client, admin, "/v1/grievances?status=open"))["items"] == []
    assert [i["status"] for i in body_of(get(client, admin, "/v1/grievances?status=answered"))["items"]] == [
        "answered"]
    assert_error(send(client, admin, f"/v1/grievances/{grievance_id}/answer", {"text": "Again"}), 409,
                 "grievance_not_open")
    actions = audit_actions()
    for action in ("grievance.file", "grievance.verify", "grievance.list", "grievance.read", "grievance.answer"):
        assert action in actions, action
    logged = capsys.readouterr()
    assert "Mallikarjun" not in logged.err + logged.out


def test_nothing_of_the_person_or_the_complaint_is_stored_in_plaintext(client, widget, admin, officer):
    grievance_id = raised_and_verified(client, widget, to=PHONE_E164, phone=PHONE)
    send(client, admin, f"/v1/grievances/{grievance_id}/answer", {"text": "Priya, we have stopped the calls."})
    text = dump_text(scan_everything()).lower()
    for marker in (*PLAINTEXT_MARKERS, "mallikarjun", "stopped the calls"):
        assert marker.lower() not in text, marker
    sms = [m for m in messages() if m["to"] == PHONE_E164][-1]
    assert "stopped the calls" in sms["text"]


def test_the_portal_reads_the_officer_and_tenant_settings_are_checked(client, widget, operator, tenant):
    assert body_of(get(client, widget, "/v1/grievance-officer")) == {"officer": None, "due_days": 90}
    assert_error(send(client, widget, "/v1/grievances", {"email": EMAIL, "text": COMPLAINT}), 409,
                 "no_grievance_officer")
    created = operator("admin_create_tenant", {"name": "Beta", "default_region": "IN", "grievance_due_days": 15,
                                               "grievance_officer": {"name": "Ravi", "phone": "+91 91234 56780"}})
    assert set(created) == {"tenant_id"}
    other = operator("admin_issue_api_key", {"tenant_id": created["tenant_id"], "role": "widget"})
    assert body_of(get(client, other, "/v1/grievance-officer")) == {
        "officer": {"name": "Ravi", "contact": "+919123456780", "contact_kind": "phone"}, "due_days": 15}
    filed = raise_one(client, other)
    assert clock.parse_timestamp(filed["due_at"]) - clock.now() <= timedelta(days=15)
    for bad in ({"grievance_due_days": 91}, {"grievance_due_days": 0},
                {"grievance_officer": {"name": "X", "email": "a@b.example", "phone": "+919123456780"}},
                {"grievance_officer": {"name": "X"}}, {"grievance_officer": {"name": "X", "email": "not-mail"}},
                {"grievance_officer": {"name": "", "email": "a@b.example"}}):
        answer = operator("admin_create_tenant", {"name": "Gamma", "default_region": "IN", **bad})
        assert answer["error"]["code"] == "validation_error", (bad, answer)
    assert operator("admin_set_grievance_officer", {"tenant_id": tenant})["error"]["code"] == "validation_error"
    changed = operator("admin_set_grievance_officer", {"tenant_id": tenant, "grievance_due_days": 30})
    assert (changed["grievance_officer"], changed["grievance_due_days"]) == (None, 30)


@pytest.mark.parametrize("body, field", [
    ({"email": EMAIL, "text": "too short"}, "text"),
    ({"email": EMAIL, "text": "x" * 4001}, "text"),
    ({"text": COMPLAINT}, "email|phone"),
    ({"email": EMAIL, "phone": PHONE, "text": COMPLAINT}, "email|phone"),
    ({"email": EMAIL, "text": COMPLAINT, "visitor_id": "v-12345678"}, "visitor_id"),
    ({"email": "not an address", "text": COMPLAINT}, "email"),
    ({"email": EMAIL, "text": 12345678901}, "text"),
])
def test_bad_complaints_are_400_and_store_nothing(client, widget, officer, body, field):
    error = assert_error(send(client, widget, "/v1/grievances", body), 400, "validation_error")
    assert field in {detail["field"] for detail in error["details"]}
    assert "Priya" not in json.dumps(error) and "too short" not in json.dumps(error)
    assert not [item for name, items in scan_everything().items() if name.endswith("grievances") for item in items]


def test_roles_and_tenants_are_kept_apart(client, widget, admin, officer, issue_key, operator):
    grievance_id = raised_and_verified(client, widget)
    agent = issue_key("agent", agent_id="asha")
    assert_error(send(client, agent, "/v1/grievances", {"email": EMAIL, "text": COMPLAINT}), 403, "forbidden")
    for key in (widget, agent):
        assert_error(get(client, key, "/v1/grievances"), 403, "forbidden")
        assert_error(get(client, key, f"/v1/grievances/{grievance_id}"), 403, "forbidden")
        assert_error(send(client, key, f"/v1/grievances/{grievance_id}/answer", {"text": "No"}), 403, "forbidden")
    other_tenant = operator("admin_create_tenant", {"name": "Beta", "default_region": "IN",
                                                    "grievance_officer": {"name": "R", "email": "r@beta.example"}})
    their_admin = issue_key("admin", tenant_id=other_tenant["tenant_id"])
    their_widget = issue_key("widget", tenant_id=other_tenant["tenant_id"])
    assert_error(get(client, their_admin, f"/v1/grievances/{grievance_id}"), 404, "not_found")
    assert_error(send(client, their_admin, f"/v1/grievances/{grievance_id}/answer", {"text": "No"}), 404,
                 "not_found")
    assert_error(verify(client, their_widget, grievance_id, "123456"), 404, "not_found")
    assert body_of(get(client, their_admin, "/v1/grievances"))["items"] == []
    # another widget key of the same tenant cannot verify what it did not raise
    pending = raise_one(client, widget)
    assert_error(verify(client, issue_key("widget"), pending["grievance_id"], "123456"), 404, "not_found")
    assert_error(get(client, admin, "/v1/grievances/grv_nope"), 404, "not_found")
    assert_error(send(client, admin, f"/v1/grievances/{pending['grievance_id']}/answer", {"text": "Too soon"}),
                 409, "grievance_not_open")


def test_wrong_codes_lock_it_and_shred_the_complaint(client, widget, admin, officer):
    filed = raise_one(client, widget)
    grievance_id, bad = filed["grievance_id"], wrong(last_code(EMAIL_NORMALISED))
    assert_error(verify(client, widget, grievance_id, bad), 400, "invalid_code")
    assert_error(verify(client, widget, grievance_id, bad), 400, "invalid_code")
    assert_error(verify(client, widget, grievance_id, bad), 429, "verification_locked")
    assert_error(verify(client, widget, grievance_id, last_code(EMAIL_NORMALISED)), 429, "verification_locked")
    view = body_of(get(client, admin, f"/v1/grievances/{grievance_id}"))
    assert (view["status"], view["text"], view["contact"]) == ("rejected", None, None)
    assert not [m for m in messages() if m["to"] == OFFICER_EMAIL]


def test_a_last_wrong_code_racing_the_right_one_leaves_the_opened_grievance_alone(client, widget, admin, officer,
                                                                                  monkeypatch):
    from chalicelib.store import grievances

    filed = raise_one(client, widget)
    grievance_id, code = filed["grievance_id"], last_code(EMAIL_NORMALISED)
    for _ in range(2):
        assert_error(verify(client, widget, grievance_id, wrong(code)), 400, "invalid_code")
    real_count = grievances.count_attempt

    def right_code_lands_meanwhile(grievance, max_attempts):
        counted = real_count(grievance, max_attempts)
        other = GrievanceRecord.get(grievance_id, consistent_read=True)  # the right code's request opens it
        assert grievances.mark_open(other, clock.now(), clock.now() + timedelta(days=365))
        return counted

    with monkeypatch.context() as patch:
        patch.setattr(grievances, "count_attempt", right_code_lands_meanwhile)
        assert_error(verify(client, widget, grievance_id, wrong(code)), 400, "invalid_code")
    view = body_of(get(client, admin, f"/v1/grievances/{grievance_id}"))
    assert (view["status"], view["text"]) == ("open", COMPLAINT)


def test_a_code_attempt_whose_answer_was_lost_counts_once(client, widget, officer, monkeypatch):
    grievance_id = raise_one(client, widget)["grievance_id"]
    original, calls = GrievanceRecord.update, []

    def twice(self, *args, **kwargs):
        calls.append(1)
        original(self, *args, **kwargs)
        return original(self, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(GrievanceRecord, "update", twice)
        assert_error(verify(client, widget, grievance_id, wrong(last_code(EMAIL_NORMALISED))), 400, "invalid_code")
    assert calls and GrievanceRecord.get(grievance_id, consistent_read=True).attempts == 1


def test_the_queue_is_open_first_soonest_due_first_in_pages(client, widget, admin, officer, operator, tenant):
    # raised by staff on people's behalf (staff keys spend no budget: four codes to one address)
    answered = raised_and_verified(client, admin)
    late = raised_and_verified(client, admin)
    operator("admin_set_grievance_officer", {"tenant_id": tenant, "grievance_due_days": 10})
    soon = raised_and_verified(client, admin)
    raise_one(client, widget)  # never verified: not on the queue
    send(client, admin, f"/v1/grievances/{answered}/answer", {"text": "Done."})
    seen, cursor = [], None
    while True:
        page = body_of(get(client, admin, "/v1/grievances?limit=1" + (f"&cursor={cursor}" if cursor else "")))
        seen += [(item["grievance_id"], item["status"]) for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [(soon, "open"), (late, "open"), (answered, "answered")]
    first = body_of(get(client, admin, "/v1/grievances?status=open&limit=1"))
    assert_error(get(client, admin, f"/v1/grievances?status=answered&cursor={first['next_cursor']}"), 400,
                 "validation_error")
    assert_error(get(client, admin, "/v1/grievances?status=pending_verification"), 400, "validation_error")
    assert_error(get(client, admin, "/v1/grievances?cursor=garbage"), 400, "validation_error")


def test_unverified_complaints_expire_in_a_day_and_verified_ones_last_a_year(client, widget, admin, officer,
                                                                             monkeypatch):
    now = clock.now()
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(now))
    pending = raise_one(client, widget)["grievance_id"]
    kept = raised_and_verified(client, widget)
    assert GrievanceRecord.get(pending).expires_at <= now + timedelta(hours=24)
    assert GrievanceRecord.get(kept).expires_at >= now + timedelta(days=365, seconds=-1)  # TTL: whole seconds
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(now + timedelta(hours=25)))
    assert_error(get(client, admin, f"/v1/grievances/{pending}"), 404, "not_found")
    assert body_of(get(client, admin, f"/v1/grievances/{kept}"))["status"] == "open"


def test_an_officer_notice_that_could_not_go_out_goes_with_the_next_verify(client, widget, admin, officer,
                                                                          monkeypatch):
    from chalicelib.notify import DeliveryFailed
    from chalicelib.services.rights.grievances import messages as grievance_messages

    filed = raise_one(client, widget)
    with monkeypatch.context() as patch:
        def down(*args, **kwargs):
            raise DeliveryFailed(permanent=False)

        patch.setattr(grievance_messages, "notify_officer", down)
        assert body_of(verify(client, widget, filed["grievance_id"], last_code(EMAIL_NORMALISED))) == {
            "status": "open"}
    view = body_of(get(client, admin, f"/v1/grievances/{filed['grievance_id']}"))
    assert view["officer_notified"] is False and not [m for m in messages() if m["to"] == OFFICER_EMAIL]
    assert body_of(verify(client, widget, filed["grievance_id"], "000000")) == {"status": "open"}
    assert len([m for m in messages() if m["to"] == OFFICER_EMAIL]) == 1
