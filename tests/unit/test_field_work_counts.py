"""Daily field-work counts stay exact whatever is retried: the SDK's retry of an applied count, an upload or a
shift request sent again after its count was lost, an upload sent again after it was counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import clock
from chalicelib.store import field_work
from chalicelib.store.models.field_work_days import FieldWorkDayRecord
from tests.support.field import at, call_event, post
from tests.support.http import assert_error, bearer, body_of
from tests.support.leads import lead_body, post_lead
from tests.support.people import PHONE
from tests.support.tables import dump_text, scan_everything
from tests.unit.test_lost_answers import retried_after_applying

T0 = datetime(2026, 11, 20, 9, 0, 0, tzinfo=UTC)
OTHER_PHONE = "+91 98000 70001"


@pytest.fixture
def agent(issue_key):
    return issue_key("agent", agent_id="asha")


@pytest.fixture
def on_shift(client, widget, agent, monkeypatch):
    """Two known leads, the agent on shift since T0, the clock at T0 + 2 h; returns a clock setter."""

    def set_now(moment: datetime) -> None:
        monkeypatch.setenv("LEADVAULT_NOW", clock.iso(moment))

    set_now(T0)
    post_lead(client, widget, lead_body())
    post_lead(client, widget, lead_body(phone=OTHER_PHONE, email="b@example.org"))
    assert post(client, agent, "/v1/shifts/start").status_code == 201
    set_now(T0 + timedelta(hours=2))
    return set_now


EVENTS = [call_event("c1", PHONE, at(T0, minutes=10)), call_event("c2", OTHER_PHONE, at(T0, minutes=20)),
          call_event("c3", PHONE, at(T0, minutes=-30)), call_event("c4", "+91 90000 00000", at(T0, minutes=40))]


def counts(client, admin, day="2026-11-20"):
    report = body_of(client.http.get(f"/v1/reports/calls?from={day}&to={day}", headers=bearer(admin)))
    agents = report["days"][0]["agents"]
    return agents[0] if agents else None


def upload(client, agent, events=EVENTS):
    return post(client, agent, "/v1/calls", {"events": events})


def test_a_count_whose_answer_was_lost_is_added_once(client, admin, agent, on_shift, monkeypatch):
    with monkeypatch.context() as patch:
        calls = retried_after_applying(patch, FieldWorkDayRecord, "update")
        assert upload(client, agent).status_code == 200
    assert calls
    day = counts(client, admin)
    assert (day["stored"], day["ignored"]["outside_shift"], day["ignored"]["unknown_number"]) == (2, 1, 1)


def test_an_upload_sent_again_after_its_count_was_lost_is_counted_once(client, admin, agent, on_shift, monkeypatch):
    def lost(*args, **kwargs):
        raise RuntimeError("the count's write failed past every retry")

    with monkeypatch.context() as patch:
        patch.setattr(field_work, "add_to_day", lost)
        assert upload(client, agent).status_code == 500  # the calls are stored; their count is not
    assert counts(client, admin)["shifts"] == 1 and counts(client, admin)["stored"] == 0
    again = upload(client, agent)  # the phone sends it again
    assert [r["status"] for r in body_of(again)["results"]] == ["duplicate", "duplicate", "ignored", "ignored"]
    day = counts(client, admin)
    assert (day["stored"], day["ignored"]["outside_shift"], day["ignored"]["unknown_number"]) == (2, 1, 1)
    assert upload(client, agent).status_code == 200  # and once more, after it was counted
    assert counts(client, admin)["stored"] == 2


def test_a_call_stored_by_another_upload_is_counted_by_that_one(client, admin, agent, on_shift):
    assert upload(client, agent, EVENTS[:1]).status_code == 200
    assert upload(client, agent, EVENTS[:2]).status_code == 200  # c1 again, with c2: only c2 is new
    assert counts(client, admin)["stored"] == 2


def test_lost_shift_counts_are_made_good_when_the_agent_sends_again(client, admin, agent, monkeypatch):
    def lost(*args, **kwargs):
        raise RuntimeError("the count's write failed past every retry")

    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(T0))
    with monkeypatch.context() as patch:
        patch.setattr(field_work, "add_to_day", lost)
        assert post(client, agent, "/v1/shifts/start").status_code == 500
    assert counts(client, admin) is None
    assert_error(post(client, agent, "/v1/shifts/start"), 409, "shift_open")  # sent again: the shift is open
    assert_error(post(client, agent, "/v1/shifts/start"), 409, "shift_open")
    assert counts(client, admin)["shifts"] == 1
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(T0 + timedelta(hours=3)))
    with monkeypatch.context() as patch:
        patch.setattr(field_work, "add_to_day", lost)
        assert post(client, agent, "/v1/shifts/end").status_code == 500
    assert counts(client, admin)["shift_minutes"] == 0
    assert_error(post(client, agent, "/v1/shifts/end"), 409, "no_open_shift")
    assert_error(post(client, agent, "/v1/shifts/end"), 409, "no_open_shift")
    assert (counts(client, admin)["shifts"], counts(client, admin)["shift_minutes"]) == (1, 180)


def test_a_shift_end_whose_answer_was_lost_counts_its_minutes_once(client, admin, agent, monkeypatch):
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(T0))
    assert post(client, agent, "/v1/shifts/start").status_code == 201
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(T0 + timedelta(minutes=90)))
    with monkeypatch.context() as patch:
        calls = retried_after_applying(patch, FieldWorkDayRecord, "update")
        assert post(client, agent, "/v1/shifts/end").status_code == 200
    assert calls and counts(client, admin)["shift_minutes"] == 90


def test_a_shift_closed_by_its_maximum_counts_its_minutes_at_the_next_start(client, admin, agent, monkeypatch):
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(T0))
    assert post(client, agent, "/v1/shifts/start").status_code == 201
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(T0 + timedelta(hours=20)))
    assert post(client, agent, "/v1/shifts/start").status_code == 201  # the first closed itself after 12 h
    day = counts(client, admin)
    assert (day["shifts"], day["shift_minutes"]) == (1, 720)
    assert counts(client, admin, "2026-11-21")["shifts"] == 1


def test_counts_hold_no_personal_data(client, admin, agent, on_shift):
    upload(client, agent)
    items = [item for name, items in scan_everything().items() if name.endswith("field_work_days") for item in items]
    assert len(items) == 1 and items[0]["day_key"]["S"] == "2026-11-20#asha"
    assert set(items[0]) == {"month_key", "day_key", "stored", "ignored_outside_shift", "ignored_unknown_number",
                             "shifts", "tokens", "expires_at"}
    assert all(token.startswith(("up:", "start:shf_")) for token in items[0]["tokens"]["SS"])
    text = dump_text({"days": items})
    assert "9876543210" not in text and "9800070001" not in text and "+91" not in text
