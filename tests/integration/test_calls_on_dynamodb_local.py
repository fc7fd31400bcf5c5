"""Call uploads on AWS's own engine: real PartiQL batch updates, local index, concurrent syncs."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import clock, invocation
from chalicelib.services.access.auth import authenticate
from chalicelib.services.field_work.calls import upload_calls
from chalicelib.store.models.calls import CallRecord
from tests.support.field import at, call_event, post
from tests.support.http import bearer, body_of
from tests.support.leads import lead_body, post_lead
from tests.support.partial_batches import install

pytestmark = pytest.mark.integration

NINE = datetime(2026, 11, 20, 9, 0, 0, tzinfo=UTC)


@pytest.fixture
def setup(client, issue_key, monkeypatch):
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(NINE))
    agent, widget, admin = issue_key("agent", agent_id="asha"), issue_key("widget"), issue_key("admin")
    leads = [body_of(post_lead(client, widget, lead_body(phone=f"+91 98000 20{n:03d}", email=None)))["lead_id"]
             for n in range(30)]
    assert post(client, agent, "/v1/shifts/start").status_code == 201
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(NINE + timedelta(hours=10)))
    return agent, admin, leads


def sync(api_key: str, events: list[dict]) -> list[dict]:
    with invocation.invocation():
        return upload_calls(authenticate(f"Bearer {api_key}"), {"events": events})["results"]


def test_a_day_of_calls_synced_twice_at_once_is_stored_once(setup, client, tenant):
    agent, admin, leads = setup
    events = [call_event(f"c{n}", f"+91 98000 20{n % 30:03d}", at(NINE, minutes=5 * n)) for n in range(100)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = pool.map(lambda batch: sync(agent["api_key"], batch), [events, list(reversed(events))])
    assert {r["status"] for r in first + second} <= {"stored", "duplicate"}
    stored = list(CallRecord.query(f"{tenant}#asha"))
    assert sorted(c.client_event_id for c in stored) == sorted(f"c{n}" for n in range(100))
    lead = body_of(client.http.get(f"/v1/leads/{leads[0]}", headers=bearer(admin)))
    assert lead["last_contacted_at"] == at(NINE, minutes=5 * 90)


def test_late_batches_never_move_contact_time_backwards(setup, client):
    agent, admin, leads = setup
    phone = "+91 98000 20000"
    sync(agent["api_key"], [call_event("late-2", phone, at(NINE, hours=3))])
    sync(agent["api_key"], [call_event("late-1", phone, at(NINE, hours=1))])
    lead = body_of(client.http.get(f"/v1/leads/{leads[0]}", headers=bearer(admin)))
    assert lead["last_contacted_at"] == at(NINE, hours=3)


def test_two_agents_reporting_one_unknown_caller_at_once_make_one_lead(client, operator, tables, monkeypatch):
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(NINE))
    tenant = operator("admin_create_tenant", {"name": "Race", "default_region": "IN",
                                              "unknown_calls_become_leads": True})["tenant_id"]
    agents = [operator("admin_issue_api_key", {"tenant_id": tenant, "role": "agent", "agent_id": f"a{n}"})
              for n in range(4)]
    for agent in agents:
        post(client, agent, "/v1/shifts/start")
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(NINE + timedelta(hours=1)))
    event = call_event("x", "+91 90000 55555", at(NINE, minutes=5), direction="incoming", status="missed")
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda agent: sync(agent["api_key"], [event]), agents))
    lead_ids = {result[0]["lead_id"] for result in results}
    assert len(lead_ids) == 1 and {result[0]["status"] for result in results} == {"stored"}


def test_a_leads_timeline_pages_through_its_calls_and_erasure_finds_them(setup):
    from chalicelib.services.leads.timeline import read_timeline
    from chalicelib.store import field_work, leads

    agent, _admin, lead_ids = setup
    sync(agent["api_key"], [call_event(f"c{n}", f"+91 98000 20{n % 30:03d}", at(NINE, minutes=5 * n))
                            for n in range(100)])
    with invocation.invocation():
        lead = leads.get(lead_ids[0])
        whole = read_timeline(lead, 200, None)["items"]
        paged, cursor = [], None
        while True:
            page = read_timeline(lead, 2, cursor)
            paged, cursor = paged + page["items"], page["next_cursor"]
            if not cursor:
                break
        assert paged == whole
        assert [item["call_id"] for item in whole if item["type"] == "call"] == ["c90", "c60", "c30", "c0"]
        assert whole[-1]["first"] is True
        assert [call.client_event_id for call in field_work.calls_of_lead(lead_ids[0])] == ["c0", "c30", "c60", "c90"]
        assert field_work.delete_calls_of_lead(lead_ids[0]) == 4
        assert field_work.calls_of_lead(lead_ids[0]) == []
        assert [item["type"] for item in read_timeline(lead, 200, None)["items"]].count("call") == 0


def _clocks(client, admin, lead_ids):
    views = [body_of(client.http.get(f"/v1/leads/{lead_id}", headers=bearer(admin))) for lead_id in lead_ids]
    return [(view["last_contacted_at"], view["expires_at"]) for view in views]


def test_throttled_clock_updates_never_leave_a_worked_lead_with_its_old_expiry(setup, client, monkeypatch):
    """Issue 14, point 4: 30 calls stored, a third of their leads' clock updates throttled past every retry.
    The upload is not acknowledged; the phone's retry sees duplicates and moves every clock and expiry."""
    from chalicelib.store.batch import BatchIncomplete

    agent, admin, lead_ids = setup
    before = _clocks(client, admin, lead_ids)
    events = [call_event(f"c{n}", f"+91 98000 20{n:03d}", at(NINE, minutes=30 + n)) for n in range(30)]
    install(monkeypatch, {lead_id: 1000 for lead_id in lead_ids[::3]})
    with pytest.raises(BatchIncomplete):
        sync(agent["api_key"], events)
    assert sum(now == then for now, then in zip(_clocks(client, admin, lead_ids), before, strict=True)) >= 10
    fake = install(monkeypatch, {lead_id: 2 for lead_id in lead_ids[1::3]})  # and the retry is throttled too
    assert {result["status"] for result in sync(agent["api_key"], events)} == {"duplicate"}
    after = _clocks(client, admin, lead_ids)
    assert [contacted for contacted, _ in after] == [at(NINE, minutes=30 + n) for n in range(30)]
    assert all(expires > old for (_, expires), (_, old) in zip(after, before, strict=True))
    assert len(fake.sent) > 2


def test_refusals_keep_their_index_among_throttled_statements(setup, monkeypatch):
    """On the real engine: a lead changed since it was read is refused and named; throttled ones are retried."""
    from chalicelib.store import leads

    _agent, _admin, lead_ids = setup
    moment = NINE + timedelta(hours=5)
    with invocation.invocation():
        read = leads.many(lead_ids)
        stale = {lead_ids[4], lead_ids[26]}
        for lead_id in stale:
            read[lead_id].version = int(read[lead_id].version) + 7  # as if read before seven changes
        fake = install(monkeypatch, {lead_ids[3]: 2, lead_ids[27]: 1})
        changes = [(read[lead_id], {"last_contacted_at": moment, "last_activity_at": moment,
                                    "expires_at": moment + timedelta(days=400)}) for lead_id in lead_ids]
        refused = leads.set_clocks_if_unchanged(changes)
        assert {lead.lead_id for lead in refused} == stale
        assert fake.sent[1:3] == [[lead_ids[3]], [lead_ids[3]]] and fake.sent[4] == [lead_ids[27]]
        now = leads.many(lead_ids)
    assert [lead_id for lead_id in lead_ids if now[lead_id].last_contacted_at != moment] == \
        [lead_id for lead_id in lead_ids if lead_id in stale]
