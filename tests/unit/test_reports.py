"""The admin reports: privacy requests, policy versions with notice progress, retention, calls by day, audit log.

Each: its shape and order, its pages, another tenant's data never in it, and agent and widget keys refused.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import clock, invocation
from chalicelib.jobs import invoke_job
from chalicelib.runtime import LocalContext
from tests.support.field import at, call_event, post
from tests.support.http import assert_error, bearer, body_of
from tests.support.leads import lead_body, post_lead
from tests.support.people import EMAIL, PHONE

T0 = datetime(2026, 11, 20, 9, 0, 0, tzinfo=UTC)
ROUTES = ("/v1/privacy-requests", "/v1/policies", "/v1/reports/retention", "/v1/reports/calls", "/v1/audit")


@pytest.fixture
def now(monkeypatch):
    """Move the service's clock; returns a setter."""

    def set_now(moment: datetime) -> None:
        monkeypatch.setenv("LEADVAULT_NOW", clock.iso(moment))

    set_now(T0)
    return set_now


@pytest.fixture
def other(operator):
    """Another tenant with an admin, a widget and an agent key of its own."""
    tenant_id = operator("admin_create_tenant", {"name": "Other Co", "default_region": "IN"})["tenant_id"]
    keys = {role: operator("admin_issue_api_key", {"tenant_id": tenant_id, "role": role,
                                                   **({"agent_id": "asha"} if role == "agent" else {})})
            for role in ("admin", "widget", "agent")}
    return {"tenant_id": tenant_id, **keys}


def get(client, key, path):
    return client.http.get(path, headers=bearer(key))


def page(client, key, path):
    response = get(client, key, path)
    assert response.status_code == 200, response.body
    return body_of(response)


def walk(client, key, path, limit):
    """Every item of a list, page by page; and the number of pages."""
    items, cursor, pages = [], None, 0
    while True:
        joiner = "&" if "?" in path else "?"
        answer = page(client, key, f"{path}{joiner}limit={limit}" + (f"&cursor={cursor}" if cursor else ""))
        items += answer["items"]
        pages += 1
        cursor = answer["next_cursor"]
        if cursor is None:
            return items, pages
        assert pages < 50


def file_request(client, key, **body):
    response = client.http.post("/v1/privacy-requests", body=json.dumps({"type": "access", "email": EMAIL, **body}),
                                headers=bearer(key, **{"Content-Type": "application/json"}))
    assert response.status_code == 202, response.body
    return body_of(response)["request_id"]


def work():
    return invoke_job("privacy_worker", LocalContext("privacy_worker", timeout_s=60))


@pytest.mark.parametrize("path", ROUTES)
def test_only_admin_keys_read_the_reports(client, widget, issue_key, path):
    assert_error(get(client, widget, path), 403, "forbidden")
    assert_error(get(client, issue_key("agent", agent_id="asha"), path), 403, "forbidden")
    assert_error(client.http.get(path), 401, "unauthorized")


# --- privacy requests ---------------------------------------------------------------------

def test_open_requests_are_listed_most_urgent_first_with_their_days_left(client, admin, widget, other, now):
    now(T0 - timedelta(days=5))
    early = file_request(client, admin, verified_by_admin=True)  # due T0 + 25 days
    now(T0 - timedelta(hours=2))
    waiting = file_request(client, widget)  # due T0 + 30 days - 2 h
    now(T0)
    late = file_request(client, admin, verified_by_admin=True, type="erasure")  # due T0 + 30 days
    foreign = file_request(client, other["admin"], verified_by_admin=True)

    listed = page(client, admin, "/v1/privacy-requests")
    assert [item["request_id"] for item in listed["items"]] == [early, waiting, late]
    assert listed["next_cursor"] is None
    first = listed["items"][0]
    assert first == {"request_id": early, "type": "access", "status": "verified",
                     "filed_at": clock.iso(T0 - timedelta(days=5)), "due_at": clock.iso(T0 + timedelta(days=25)),
                     "days_left": 25, "completed_at": None, "receipt": None, "rejection_reason": None}
    assert [item["days_left"] for item in listed["items"]] == [25, 30, 30]
    assert [item["status"] for item in listed["items"]] == ["verified", "pending_verification", "verified"]
    assert EMAIL not in json.dumps(listed) and "asha" not in json.dumps(listed)
    # overdue: negative
    now(T0 + timedelta(days=27))
    assert page(client, admin, "/v1/privacy-requests")["items"][0]["days_left"] == -2
    now(T0)

    assert [i["request_id"] for i in page(client, admin, "/v1/privacy-requests?status=verified")["items"]] == [
        early, late]
    assert [i["request_id"] for i in page(client, admin, "/v1/privacy-requests?status=pending_verification")[
        "items"]] == [waiting]
    items, pages = walk(client, admin, "/v1/privacy-requests", 1)
    assert [item["request_id"] for item in items] == [early, waiting, late] and pages >= 3
    # The other tenant sees its own request only, and never ours.
    assert [i["request_id"] for i in page(client, other["admin"], "/v1/privacy-requests")["items"]] == [foreign]


def test_closed_requests_are_listed_newest_first_and_a_rejection_shows_its_reason(client, admin, widget, other,
                                                                                 now):
    from chalicelib.store.models.leads import LeadRecord

    now(T0 - timedelta(days=5))
    first = file_request(client, admin, verified_by_admin=True)
    now(T0 - timedelta(days=5, hours=-1))
    assert work()["completed"] == 1
    now(T0)
    lead_id = body_of(post_lead(client, widget, lead_body()))["lead_id"]
    with invocation.invocation():
        LeadRecord(lead_id).update(actions=[LeadRecord.legal_hold.set(True)])
    held = file_request(client, admin, verified_by_admin=True, type="erasure")
    second = file_request(client, admin, verified_by_admin=True, email="nobody@example.org")
    now(T0 + timedelta(hours=1))
    outcome = work()
    assert (outcome["completed"], outcome["rejected"]) == (1, 1)
    file_request(client, other["admin"], verified_by_admin=True)
    invoke_job("privacy_worker", LocalContext("privacy_worker", timeout_s=60))

    completed = page(client, admin, "/v1/privacy-requests?status=completed")["items"]
    assert [item["request_id"] for item in completed] == [second, first]
    assert completed[1]["completed_at"] == clock.iso(T0 - timedelta(days=4, hours=23))
    assert completed[1]["days_left"] == 30  # counted at completion: done the day it was filed
    rejected = page(client, admin, "/v1/privacy-requests?status=rejected")["items"]
    assert [(item["request_id"], item["rejection_reason"]) for item in rejected] == [(held, "legal_hold")]
    assert page(client, admin, "/v1/privacy-requests")["items"] == []
    items, _ = walk(client, admin, "/v1/privacy-requests?status=completed", 1)
    assert [item["request_id"] for item in items] == [second, first]


def test_bad_list_queries_are_400(client, admin):
    assert_error(get(client, admin, "/v1/privacy-requests?status=done"), 400, "validation_error")
    assert_error(get(client, admin, "/v1/privacy-requests?cursor=abc"), 400, "validation_error")
    assert_error(get(client, admin, "/v1/privacy-requests?limit=0"), 400, "validation_error")
    from chalicelib.services.pagination import encode_cursor

    other_list = encode_cursor("privacy_requests:completed", "2026-11-20T09:00:00.000000Z#prq_" + "0" * 32)
    assert_error(get(client, admin, f"/v1/privacy-requests?cursor={other_list}"), 400, "validation_error")
    forged = encode_cursor("privacy_requests:open", "ten_0000000000000000#open")
    assert_error(get(client, admin, f"/v1/privacy-requests?cursor={forged}"), 400, "validation_error")


# --- policies -----------------------------------------------------------------------------

POLICY = {"url": "https://acme.example/privacy", "summary": "We now keep calls 90 days."}


def publish(operator, tenant_id, version, effective_at):
    answer = operator("admin_publish_policy", {**POLICY, "scope": "tenant", "tenant_id": tenant_id,
                                               "version": version, "effective_at": effective_at})
    assert "policy_id" in answer, answer
    return answer


def dispatch():
    return invoke_job("dispatch_notifications", LocalContext("dispatch_notifications", timeout_s=60))


def zeros():
    return {"sent": 0, "failed": 0, "pending": 0, "skipped": 0}


@pytest.fixture
def audience(client, widget, monkeypatch):
    """A lead with an e-mail and a phone-only lead."""
    monkeypatch.setenv("LEADVAULT_SEND_RATE", "0")
    post_lead(client, widget, lead_body())
    post_lead(client, widget, lead_body(phone="+91 91234 56780", email=None))


def versions_of(client, admin):
    return {item["version"]: item for item in page(client, admin, "/v1/policies")["items"]}


def test_policy_versions_show_their_notices_progress_per_channel(client, admin, operator, tenant, audience, other):
    published = publish(operator, tenant, "2026-12", "2026-12-01T00:00:00Z")
    publish(operator, other["tenant_id"], "other-1", "2026-12-01T00:00:00Z")
    before = versions_of(client, admin)
    assert "2026-12" in before and "other-1" not in before  # the tenant's own versions only
    version = before["2026-12"]
    assert version["policy_id"] == published["policy_id"] and version["scope"] == "tenant"
    assert version["recipients"] == 2
    assert version["progress"] == {"email": {**zeros(), "pending": 1}, "sms": {**zeros(), "pending": 1},
                                   "in_app": zeros()}
    assert version["totals"] == {**zeros(), "pending": 2}
    assert dispatch()["sent"] == 2
    after = versions_of(client, admin)["2026-12"]
    assert after["progress"] == {"email": {**zeros(), "sent": 1}, "sms": {**zeros(), "sent": 1}, "in_app": zeros()}
    assert after["totals"] == {**zeros(), "sent": 2}
    assert operator("admin_policy_status", {"policy_id": published["policy_id"]}) == {
        "recipients": 2, "sent": 2, "failed": 0, "skipped": 0, "pending": 0}


def test_a_settlement_whose_answer_was_lost_counts_once_per_channel(client, admin, operator, tenant, audience,
                                                                    monkeypatch):
    from botocore.exceptions import ClientError

    from chalicelib.store import atomic

    publish(operator, tenant, "2026-12", "2026-12-01T00:00:00Z")
    real_commit = atomic.commit

    def commit_and_lose_the_answer(writes, counters=()):
        real_commit(writes, counters)
        real_commit(writes, counters)  # the SDK's retry: refused by the state the first one set
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "lost"}}, "TransactWriteItems")

    monkeypatch.setattr(atomic, "commit", commit_and_lose_the_answer)
    assert dispatch()["sent"] == 2
    monkeypatch.setattr(atomic, "commit", real_commit)
    version = versions_of(client, admin)["2026-12"]
    assert version["progress"]["email"] == {**zeros(), "sent": 1}
    assert version["progress"]["sms"] == {**zeros(), "sent": 1}


def test_policy_versions_are_newest_first_and_paged(client, admin, operator, tenant):
    for month in ("01", "03", "02"):
        publish(operator, tenant, f"2027-{month}", f"2027-{month}-01T00:00:00Z")
    items, pages = walk(client, admin, "/v1/policies", 1)
    ours = [item["version"] for item in items if item["version"].startswith("2027-")]
    assert ours == ["2027-03", "2027-02", "2027-01"] and pages >= 3
    assert_error(get(client, admin, "/v1/policies?cursor=xyz"), 400, "validation_error")


# --- retention ----------------------------------------------------------------------------

def test_retention_counts_leads_by_expiry_day_and_lists_legal_holds(client, widget, admin, operator, tenant, other,
                                                                    now):
    operator("admin_set_retention", {"tenant_id": tenant, "days": {"leads": 10}})
    now(T0 - timedelta(days=3))
    soon = [body_of(post_lead(client, widget, lead_body(phone=f"+91 98000 400{n:02d}", email=f"s{n}@example.org")))[
        "lead_id"] for n in range(3)]
    now(T0 - timedelta(days=1))
    later = body_of(post_lead(client, widget, lead_body(phone="+91 98000 40100", email="l@example.org")))["lead_id"]
    post_lead(client, other["widget"], lead_body(phone="+91 98000 40200", email="x@example.org"))
    now(T0)
    operator("admin_legal_hold", {"tenant_id": tenant, "lead_id": soon[0], "on": True, "reason": "Court order 17"})

    report = page(client, admin, "/v1/reports/retention")
    assert report["from"] == "2026-11-20" and len(report["days"]) == 30
    assert report["days"][0]["date"] == "2026-11-20" and report["days"][29]["date"] == "2026-12-19"
    expiring = {day["date"]: day["expiring"] for day in report["days"] if day["expiring"]}
    assert expiring == {"2026-11-27": 2, "2026-11-29": 1}
    assert report["legal_holds"] == {"count": 1, "next_cursor": None,
                                     "items": [{"lead_id": soon[0], "reason": "Court order 17", "since": None}]}
    assert later not in json.dumps(report)
    foreign = page(client, other["admin"], "/v1/reports/retention")  # its lead expires in a year
    assert foreign["legal_holds"] == {"count": 0, "items": [], "next_cursor": None}
    assert sum(day["expiring"] for day in foreign["days"]) == 0


def test_legal_holds_are_paged(client, widget, admin, operator, tenant):
    leads = [body_of(post_lead(client, widget, lead_body(phone=f"+91 98000 500{n:02d}", email=f"h{n}@example.org")))[
        "lead_id"] for n in range(5)]
    for lead_id in leads:
        operator("admin_legal_hold", {"tenant_id": tenant, "lead_id": lead_id, "on": True, "reason": "Audit"})
    first = page(client, admin, "/v1/reports/retention?limit=2")["legal_holds"]
    assert first["count"] == 5 and len(first["items"]) == 2 and first["next_cursor"]
    seen, cursor = [item["lead_id"] for item in first["items"]], first["next_cursor"]
    while cursor:
        holds = page(client, admin, f"/v1/reports/retention?limit=2&cursor={cursor}")["legal_holds"]
        assert holds["count"] == 5
        seen += [item["lead_id"] for item in holds["items"]]
        cursor = holds["next_cursor"]
    assert seen == sorted(leads)
    assert sum(day["expiring"] for day in page(client, admin, "/v1/reports/retention")["days"]) == 0
    assert_error(get(client, admin, "/v1/reports/retention?cursor=abc"), 400, "validation_error")


# --- calls by day -------------------------------------------------------------------------

@pytest.fixture
def agent(issue_key):
    return issue_key("agent", agent_id="asha")


def upload(client, agent, *events):
    response = post(client, agent, "/v1/calls", {"events": list(events)})
    assert response.status_code == 200, response.body
    return [result["status"] for result in body_of(response)["results"]]


def asha_on(report, day):
    [found] = [d for d in report["days"] if d["date"] == day]
    return {agent["agent_id"]: agent for agent in found["agents"]}.get("asha")


def test_calls_and_shifts_are_counted_by_agent_and_day(client, widget, admin, agent, other, now):
    post_lead(client, widget, lead_body())
    second = lead_body(phone="+91 98000 60001", email="b@example.org")
    post_lead(client, widget, second)
    assert post(client, agent, "/v1/shifts/start").status_code == 201
    now(T0 + timedelta(hours=2))
    events = [call_event("c1", PHONE, at(T0, minutes=10)), call_event("c2", second["phone"], at(T0, minutes=20)),
              call_event("c3", PHONE, at(T0, minutes=-30)),  # before the shift
              call_event("c4", "+91 90000 00000", at(T0, minutes=40))]  # nobody's number
    assert upload(client, agent, *events) == ["stored", "stored", "ignored", "ignored"]
    assert upload(client, agent, *events) == ["duplicate", "duplicate", "ignored", "ignored"]  # sent again
    now(T0 + timedelta(hours=8))
    assert post(client, agent, "/v1/shifts/end").status_code == 200
    assert post(client, other["agent"], "/v1/shifts/start").status_code == 201

    report = page(client, admin, "/v1/reports/calls?from=2026-11-20&to=2026-11-20")
    assert (report["from"], report["to"], len(report["days"])) == ("2026-11-20", "2026-11-20", 1)
    assert report["days"][0]["agents"] == [{
        "agent_id": "asha", "stored": 2, "ignored": {"outside_shift": 1, "own_number": 0, "unknown_number": 1},
        "shifts": 1, "shift_minutes": 480}]
    week = page(client, admin, "/v1/reports/calls")  # the last 7 days, today last
    assert [day["date"] for day in week["days"]] == [f"2026-11-{d}" for d in range(14, 21)]
    assert asha_on(week, "2026-11-20")["stored"] == 2 and asha_on(week, "2026-11-19") is None
    # The other tenant's agent (also "asha") is counted for its own tenant only.
    foreign = page(client, other["admin"], "/v1/reports/calls?from=2026-11-20&to=2026-11-20")
    assert foreign["days"][0]["agents"] == [{
        "agent_id": "asha", "stored": 0, "ignored": {"outside_shift": 0, "own_number": 0, "unknown_number": 0},
        "shifts": 1, "shift_minutes": 0}]


def test_a_range_over_two_months_reads_both(client, widget, admin, agent, now):
    post_lead(client, widget, lead_body())
    end_of_month = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)
    now(end_of_month)
    assert post(client, agent, "/v1/shifts/start").status_code == 201
    now(end_of_month + timedelta(hours=3))
    upload(client, agent, call_event("m1", PHONE, at(end_of_month, minutes=5)),
           call_event("m2", PHONE, at(end_of_month, hours=2, minutes=30)))
    report = page(client, admin, "/v1/reports/calls?from=2026-11-25&to=2026-12-05")
    assert len(report["days"]) == 11
    assert asha_on(report, "2026-11-30")["stored"] == 1 and asha_on(report, "2026-12-01")["stored"] == 1


@pytest.mark.parametrize("query", ["from=2026-11-20&to=2026-11-19", "from=2026-10-01&to=2026-11-20",
                                   "from=20-11-2026", "to=2026-02-30", "from=9999-12-31"])
def test_bad_call_report_ranges_are_400(client, admin, query):
    error = assert_error(get(client, admin, f"/v1/reports/calls?{query}"), 400, "validation_error")
    assert error["details"][0]["field"] in ("from", "to")


# --- audit log ----------------------------------------------------------------------------

def audit(now, tenant_id, moment, actor, action, object_id=None):
    """Write one audit record at ``moment``; its id."""
    from chalicelib.services import audit as audit_service

    now(moment)
    with invocation.invocation():
        return audit_service.record(tenant_id, actor, action, object_id).audit_id


def test_the_audit_log_is_newest_first_merged_over_shards_and_days(client, admin, tenant, other, now):
    written = []
    for day in range(3):
        for n in range(7):
            moment = T0 - timedelta(days=5 - day, minutes=-n * 7)
            actor, action = ("key_aaaa", "lead.read") if n % 2 else ("key_bbbb", "lead.update")
            written.append((moment, audit(now, tenant, moment, actor, action, f"led_{n:020d}"), actor, action))
    audit(now, other["tenant_id"], T0 - timedelta(days=4), "key_aaaa", "lead.read")
    now(T0)
    newest_first = [audit_id for _, audit_id, _, _ in sorted(written, reverse=True)]
    query = "/v1/audit?from=2026-11-14&to=2026-11-18"
    whole = page(client, admin, f"{query}&limit=200")
    assert [item["audit_id"] for item in whole["items"]] == newest_first and whole["next_cursor"] is None
    assert set(whole["items"][0]) == {"audit_id", "at", "actor_key_id", "action", "object_id"}
    items, pages = walk(client, admin, query, 4)
    assert [item["audit_id"] for item in items] == newest_first and pages >= 6
    only = page(client, admin, f"{query}&actor=key_aaaa&action=lead.read&limit=200")["items"]
    assert [item["audit_id"] for item in only] == [i for m, i, a, b in sorted(written, reverse=True)
                                                   if a == "key_aaaa"]
    assert page(client, admin, f"{query}&action=lead.erase")["items"] == []
    # Reading the log is audited (today), and the other tenant's record never shows.
    today = page(client, admin, "/v1/audit?limit=200")["items"]
    assert "audit.read" in [item["action"] for item in today]
    foreign = page(client, other["admin"], f"{query}&limit=200")["items"]
    assert len(foreign) == 1 and foreign[0]["audit_id"] not in newest_first


def test_a_quiet_range_is_read_a_week_a_page(client, admin, tenant, now):
    old = audit(now, tenant, T0 - timedelta(days=20), "key_aaaa", "lead.read")
    now(T0)
    first = page(client, admin, "/v1/audit?from=2026-10-31&to=2026-11-20")
    assert first["items"] == [] or first["items"][0]["action"] == "audit.read"
    items, pages = walk(client, admin, "/v1/audit?from=2026-10-31&to=2026-11-19", 50)
    assert [item["audit_id"] for item in items] == [old] and pages == 3


@pytest.mark.parametrize("query", ["actor=has%20space", "action=Lead.Read", "from=2025-01-01&to=2026-11-20",
                                   "cursor=abc"])
def test_bad_audit_queries_are_400(client, admin, query):
    assert_error(get(client, admin, f"/v1/audit?{query}"), 400, "validation_error")
