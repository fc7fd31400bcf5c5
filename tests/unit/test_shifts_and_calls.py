"""Shifts and call tracking: metadata only, only while on shift, each call once, linked to its lead."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import clock
from tests.support.field import at, call_event, post
from tests.support.http import assert_error, bearer, body_of
from tests.support.leads import lead_body, post_lead
from tests.support.people import PHONE, PHONE_E164
from tests.support.tables import dump_text, scan_everything

NINE = datetime(2026, 11, 20, 9, 0, 0, tzinfo=UTC)


@pytest.fixture
def now(monkeypatch):
    """Move the service's clock; returns a setter."""

    def set_now(moment: datetime) -> None:
        monkeypatch.setenv("LEADVAULT_NOW", clock.iso(moment))

    set_now(NINE)
    return set_now


@pytest.fixture
def agent(issue_key):
    return issue_key("agent", agent_id="asha")




@pytest.fixture
def lead_id(client, widget, now):
    return body_of(post_lead(client, widget, lead_body()))["lead_id"]


def stored_items() -> int:
    return sum(len(items) for name, items in scan_everything().items() if name.endswith(("calls", "timeline")))


def upload(client, agent, *events, **headers):
    return post(client, agent, "/v1/calls", {"events": list(events)}, **headers)


def results(response):
    assert response.status_code == 200, response.body
    return body_of(response)["results"]


def test_shift_start_and_end(client, agent, now):
    started = post(client, agent, "/v1/shifts/start", {"location": {"lat": 18.520430, "lng": 73.856743}})
    assert started.status_code == 201
    shift = body_of(started)
    assert shift["started_at"] == clock.iso(NINE)
    assert_error(post(client, agent, "/v1/shifts/start"), 409, "shift_open")
    now(NINE + timedelta(hours=8))
    ended = post(client, agent, "/v1/shifts/end")
    assert ended.status_code == 200 and body_of(ended) == {"shift_id": shift["shift_id"], "ended_at": at(NINE, hours=8)}
    assert_error(post(client, agent, "/v1/shifts/end"), 409, "no_open_shift")


def test_location_is_kept_rounded_to_two_decimals(client, agent, admin, now):
    post(client, agent, "/v1/shifts/start", {"location": {"lat": 18.520430, "lng": 73.856743}})
    shifts = body_of(client.http.get("/v1/agents/asha/shifts", headers=bearer(admin)))["items"]
    assert shifts[0]["location"] == {"lat": 18.52, "lng": 73.86}
    assert "18.5204" not in dump_text(scan_everything())


@pytest.mark.parametrize("body", [{"location": {"lat": 91, "lng": 0}}, {"location": {"lat": "x", "lng": 0}},
                                  {"location": {"lat": 1}}, {"gps_trace": []}])
def test_bad_shift_bodies_are_400(client, agent, now, body):
    assert_error(post(client, agent, "/v1/shifts/start", body), 400, "validation_error")


def test_a_shift_left_open_closes_itself_after_the_tenants_maximum(client, agent, admin, lead_id, now):
    post(client, agent, "/v1/shifts/start")
    now(NINE + timedelta(hours=13))
    late = results(upload(client, agent, call_event("late", PHONE, at(NINE, hours=12, seconds=1))))
    assert late == [{"client_event_id": "late", "status": "ignored", "reason": "outside_shift"}]
    assert_error(post(client, agent, "/v1/shifts/end"), 409, "no_open_shift")
    assert post(client, agent, "/v1/shifts/start").status_code == 201
    shifts = body_of(client.http.get("/v1/agents/asha/shifts", headers=bearer(admin)))["items"]
    assert shifts[1]["closed_by"] == "auto" and shifts[1]["ended_at"] == at(NINE, hours=12)


@pytest.mark.parametrize("role", ["admin", "widget"])
def test_only_agent_keys_track_shifts_and_calls(client, issue_key, now, role):
    key = issue_key(role)
    for path in ("/v1/shifts/start", "/v1/shifts/end"):
        assert_error(post(client, key, path), 403, "forbidden")
    assert_error(upload(client, key, call_event("e1", PHONE, clock.iso(NINE))), 403, "forbidden")


def test_each_status_and_reason(client, operator, tenant, agent, widget, lead_id, now):
    from chalicelib import invocation
    from chalicelib.services.tenants.tenancy import require_tenant
    from chalicelib.store.models.tenants import TenantRecord

    with invocation.invocation():
        require_tenant(tenant).update(actions=[TenantRecord.own_numbers.set(["+918040000000"])])
    post(client, agent, "/v1/shifts/start")
    now(NINE + timedelta(hours=2))
    answer = results(upload(
        client, agent,
        call_event("before", PHONE, at(NINE, seconds=-1)),
        call_event("lead", PHONE, at(NINE, minutes=30)),
        call_event("own", "080 4000 0000", at(NINE, minutes=31)),
        call_event("stranger", "+91 90000 11111", at(NINE, minutes=32), direction="incoming", status="missed"),
        call_event("hidden", "Private", at(NINE, minutes=33)),
        call_event("lead", PHONE, at(NINE, minutes=30)),
    ))
    assert answer == [
        {"client_event_id": "before", "status": "ignored", "reason": "outside_shift"},
        {"client_event_id": "lead", "status": "stored", "lead_id": lead_id},
        {"client_event_id": "own", "status": "ignored", "reason": "own_number"},
        {"client_event_id": "stranger", "status": "ignored", "reason": "unknown_number"},
        {"client_event_id": "hidden", "status": "ignored", "reason": "unknown_number"},
        {"client_event_id": "lead", "status": "duplicate", "lead_id": lead_id},
    ]
    again = results(upload(client, agent, call_event("lead", PHONE, at(NINE, minutes=30))))
    assert again == [{"client_event_id": "lead", "status": "duplicate", "lead_id": lead_id}]


def test_a_stored_call_is_on_the_leads_timeline_and_contact_time(client, agent, admin, lead_id, now):
    post(client, agent, "/v1/shifts/start")
    now(NINE + timedelta(hours=1))
    results(upload(client, agent, call_event("c1", PHONE, at(NINE, minutes=10), duration_s=95)))
    lead = body_of(client.http.get(f"/v1/leads/{lead_id}", headers=bearer(admin)))
    assert lead["last_contacted_at"] == at(NINE, minutes=10)
    items = body_of(client.http.get(f"/v1/leads/{lead_id}/timeline", headers=bearer(admin)))["items"]
    call = next(item for item in items if item["type"] == "call")
    assert call == {"event_id": call["event_id"], "type": "call", "at": at(NINE, minutes=10), "call_id": "c1",
                    "agent_id": "asha", "direction": "outgoing", "status": "answered", "duration_s": 95}
    calls = body_of(client.http.get("/v1/agents/asha/calls", headers=bearer(admin)))["items"]
    assert calls[0]["number"] == PHONE_E164 and calls[0]["lead_id"] == lead_id


def test_offline_sync_late_out_of_order_in_batches_with_repeats(client, agent, admin, lead_id, now):
    post(client, agent, "/v1/shifts/start")
    events = [call_event(f"day-{n}", PHONE, at(NINE, minutes=10 * n)) for n in range(1, 9)]
    now(NINE + timedelta(days=1))
    first = results(upload(client, agent, events[5], events[2], events[7]))
    second = results(upload(client, agent, events[0], events[2], events[6], events[1]))
    third = results(upload(client, agent, *reversed(events)))
    assert [r["status"] for r in first] == ["stored"] * 3
    assert [r["status"] for r in second] == ["stored", "duplicate", "stored", "stored"]
    assert sorted(r["client_event_id"] for r in third if r["status"] == "stored") == ["day-4", "day-5"]
    calls = body_of(client.http.get("/v1/agents/asha/calls", headers=bearer(admin)))["items"]
    assert [c["client_event_id"] for c in calls] == [f"day-{n}" for n in range(8, 0, -1)]
    lead = body_of(client.http.get(f"/v1/leads/{lead_id}", headers=bearer(admin)))
    assert lead["last_contacted_at"] == at(NINE, minutes=80)


@pytest.mark.parametrize("extra", [{"recording_url": "s3://x"}, {"audio": "AAAA"}, {"transcript": "hello"},
                                   {"sms_text": "hi"}, {"body": "text"}])
def test_forbidden_fields_reject_the_whole_batch_and_store_nothing(client, agent, lead_id, now, extra):
    post(client, agent, "/v1/shifts/start")
    before = stored_items()
    good = call_event("ok", PHONE, clock.iso(NINE))
    response = upload(client, agent, good, {**call_event("bad", PHONE, clock.iso(NINE)), **extra})
    assert_error(response, 400, "validation_error")
    assert stored_items() == before
    assert results(upload(client, agent, good))[0]["status"] == "stored"
    assert stored_items() == before + 1  # the call (its lead's timeline finds it through the calls index)


@pytest.mark.parametrize("body", [{"events": []}, {"events": [call_event(f"e{n}", PHONE, "2026-11-20T09:00:00Z")
                                                              for n in range(101)]},
                                  {"events": [call_event("e", PHONE, "2026-11-20T09:00:00Z", duration_s=86401)]},
                                  {"events": [call_event("e", PHONE, "2026-11-20T09:00:00Z", duration_s=-1)]},
                                  {"events": [call_event("e", PHONE, "2026-11-20T09:00:00Z", direction="sideways")]},
                                  {"events": [call_event("e", PHONE, "2026-11-20T09:00:00Z", status="voicemail")]},
                                  {"events": [call_event("e", PHONE, "yesterday")]},
                                  {"events": [call_event("e", PHONE, "2026-11-20T09:00:00")]},
                                  {"events": [call_event("e", PHONE, "2027-01-01T00:00:00Z")]},
                                  {"events": [call_event("e" * 200, PHONE, "2026-11-20T09:00:00Z")]},
                                  {"events": "nope"}, {}])
def test_invalid_batches_are_400(client, agent, now, body):
    assert_error(post(client, agent, "/v1/calls", body), 400, "validation_error")


def test_unknown_callers_become_leads_only_when_the_tenant_says_so(client, operator, tables, now):
    tenant = operator("admin_create_tenant", {"name": "Calls", "default_region": "IN",
                                              "unknown_calls_become_leads": True})["tenant_id"]
    agent = operator("admin_issue_api_key", {"tenant_id": tenant, "role": "agent", "agent_id": "ravi"})
    admin = operator("admin_issue_api_key", {"tenant_id": tenant, "role": "admin"})
    post(client, agent, "/v1/shifts/start")
    answer = results(upload(
        client, agent,
        call_event("missed", "+91 90000 22222", at(NINE, minutes=1), direction="incoming", status="missed"),
        call_event("again", "+91 90000 22222", at(NINE, minutes=2), direction="incoming", status="answered"),
        call_event("cold", "+91 90000 33333", at(NINE, minutes=3), direction="outgoing", status="unanswered"),
    ))
    assert [r["status"] for r in answer] == ["stored", "stored", "ignored"]
    assert answer[0]["lead_id"] == answer[1]["lead_id"] and answer[2]["reason"] == "unknown_number"
    lead = body_of(client.http.get(f"/v1/leads/{answer[0]['lead_id']}", headers=bearer(admin)))
    assert lead["source"] == "call" and lead["phone"] == "+919000022222"
    assert lead["last_contacted_at"] == at(NINE, minutes=2)


def test_a_raw_scan_holds_no_plaintext_number(client, agent, lead_id, now):
    post(client, agent, "/v1/shifts/start")
    results(upload(client, agent, call_event("c1", PHONE, at(NINE, minutes=1))))
    text = dump_text(scan_everything())
    for marker in (PHONE_E164, "9876543210", PHONE):
        assert marker not in text


def test_idempotency_key_replays_an_upload(client, agent, lead_id, now):
    post(client, agent, "/v1/shifts/start")
    events = [call_event("c1", PHONE, at(NINE, minutes=1))]
    first = upload(client, agent, *events, **{"Idempotency-Key": "sync-1"})
    replay = upload(client, agent, *events, **{"Idempotency-Key": "sync-1"})
    assert results(first) == results(replay) == [{"client_event_id": "c1", "status": "stored", "lead_id": lead_id}]
    other = upload(client, agent, call_event("c2", PHONE, at(NINE, minutes=2)), **{"Idempotency-Key": "sync-1"})
    assert_error(other, 409, "idempotency_conflict")
    assert json.loads(first.body) == json.loads(replay.body)


def read_all_pages(lead_id: str, limit: int) -> list[dict]:
    """Every item of a lead's timeline, page by page, as the service gives them out."""
    from chalicelib import invocation
    from chalicelib.services.leads.timeline import read_timeline
    from chalicelib.store import leads

    items, cursor = [], None
    with invocation.invocation():
        while True:
            page = read_timeline(leads.get(lead_id), limit, cursor)
            assert len(page["items"]) <= limit
            items += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                return items


def test_the_timeline_merges_events_and_calls_and_pages_through_each_once(client, agent, admin, lead_id, now):
    post(client, agent, "/v1/shifts/start")
    now(NINE + timedelta(minutes=3))
    staff = {"Content-Type": "application/json"}
    assert client.http.patch(f"/v1/leads/{lead_id}", headers=bearer(admin, **staff),
                             body=json.dumps({"stage": "contacted"})).status_code == 200
    now(NINE + timedelta(hours=1))
    results(upload(client, agent, *(call_event(f"c{n}", PHONE, at(NINE, minutes=n)) for n in (1, 2, 4, 5))))
    whole = read_all_pages(lead_id, 200)
    kinds = [(item["type"], item.get("call_id")) for item in whole]
    assert kinds[:5] == [("call", "c5"), ("call", "c4"), ("stage_change", None), ("call", "c2"), ("call", "c1")]
    assert whole[-1]["first"] is True and all(not item.get("first") for item in whole[:-1])
    assert [item["at"] for item in whole] == sorted((item["at"] for item in whole), reverse=True)
    for limit in range(1, len(whole) + 1):  # every page boundary, including a last page that is full
        assert read_all_pages(lead_id, limit) == whole, limit


def test_calls_written_as_timeline_events_before_the_index_show_once(client, agent, admin, lead_id, now):
    from chalicelib import invocation
    from chalicelib.store import leads, timeline
    from chalicelib.store.changes import save

    post(client, agent, "/v1/shifts/start")
    now(NINE + timedelta(hours=1))
    results(upload(client, agent, call_event("c1", PHONE, at(NINE, minutes=10), duration_s=95)))
    with invocation.invocation():  # as uploads wrote them until now: one event per call
        key = leads.key_of(leads.get(lead_id))
        facts = {"agent_id": "asha", "direction": "outgoing", "status": "answered", "duration_s": 95}
        save(timeline.new_event(key, "call", NINE + timedelta(minutes=10), None, info={"call_id": "c1", **facts}),
             timeline.new_event(key, "call", NINE + timedelta(minutes=20), None, info={"call_id": "old", **facts}))
    for limit in (1, 2, 200):
        calls = [item for item in read_all_pages(lead_id, limit) if item["type"] == "call"]
        assert [call["call_id"] for call in calls] == ["old", "c1"]
        assert calls[1] == {"event_id": "call:asha:c1", "type": "call", "at": at(NINE, minutes=10), "call_id": "c1",
                            "agent_id": "asha", "direction": "outgoing", "status": "answered", "duration_s": 95}


def test_a_hundred_calls_cost_five_batch_writes_and_one_batch_update_per_25_leads(client, widget, agent, now,
                                                                                   monkeypatch):
    import botocore.client

    from chalicelib import invocation
    from chalicelib.services.access.auth import authenticate
    from chalicelib.services.field_work.calls import upload_calls

    phones = [f"+91 98000 30{n:03d}" for n in range(30)]
    for phone in phones:
        post_lead(client, widget, lead_body(phone=phone, email=None))
    post(client, agent, "/v1/shifts/start")
    now(NINE + timedelta(hours=2))
    events = [call_event(f"c{n}", phones[n % 30], at(NINE, seconds=30 * n)) for n in range(100)]
    writes: list[tuple[str, list[str]]] = []
    make_api_call = botocore.client.BaseClient._make_api_call

    def counted(client_: object, operation: str, params: dict) -> object:
        if operation in ("BatchWriteItem", "BatchExecuteStatement", "PutItem", "UpdateItem", "DeleteItem",
                         "TransactWriteItems"):
            writes.append((operation, sorted(params.get("RequestItems", {}))))
        return make_api_call(client_, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counted)
    with invocation.invocation():
        answer = upload_calls(authenticate(f"Bearer {agent['api_key']}"), {"events": events})["results"]
    assert {result["status"] for result in answer} == {"stored"}
    # 100 calls and the audit record: 5 batch writes; 30 leads' contact clocks: 2 batch updates; no timeline item;
    # the agent's day counted: one update (all the calls fall on one day)
    assert sorted(operation for operation, _ in writes) == (["BatchExecuteStatement"] * 2 + ["BatchWriteItem"] * 5
                                                            + ["UpdateItem"])
    assert not any(table.endswith("timeline") for _, tables in writes for table in tables)
