"""The event log: each change writes exactly one event of its type, in the same write, with ids and field
names only; a refused or failed change writes none."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import clock
from chalicelib.jobs import invoke_job
from chalicelib.runtime import LocalContext
from tests.support.field import at, call_event, post
from tests.support.http import assert_error, bearer, body_of
from tests.support.leads import lead_body, post_lead
from tests.support.outbox import confirmation_link, last_code, preferences_token
from tests.support.people import EMAIL, EMAIL_NORMALISED, PHONE, PLAINTEXT_MARKERS
from tests.support.tables import dump_text, scan_everything

NINE = datetime(2026, 11, 20, 9, 0, 0, tzinfo=UTC)
OTHER = {"name": "Ravi Kumar", "phone": "+91 91234 56780", "email": "ravi.kumar@example.org"}


@pytest.fixture
def now(monkeypatch):
    def set_now(moment: datetime) -> None:
        monkeypatch.setenv("LEADVAULT_NOW", clock.iso(moment))

    set_now(NINE)
    return set_now


def raw_events() -> list[dict]:
    return next(items for name, items in scan_everything().items() if name.endswith("events"))


def events(event_type: str | None = None) -> list[dict]:
    """Every event written, as receivers get it, oldest first."""
    from chalicelib.store.events import view
    from chalicelib.store.models.events import EventRecord

    found = sorted((EventRecord.from_raw_data(item) for item in raw_events()), key=lambda e: e.created_sort)
    return [view(e) for e in found if event_type is None or e.type == event_type]


def only(event_type: str) -> dict:
    found = events(event_type)
    assert len(found) == 1, found
    return found[0]


def assert_no_personal_data() -> None:
    text = dump_text({"events": raw_events()})
    for marker in (*PLAINTEXT_MARKERS, "ravi", "91234"):
        assert marker.lower() not in text.lower(), marker


def send(client, key, path, body, method="POST"):
    return client.http.request(method, path, body=json.dumps(body),
                               headers=bearer(key, **{"Content-Type": "application/json"}))


# --- leads ----------------------------------------------------------------------------------


def test_a_new_lead_writes_one_lead_created_kept_for_the_audit_retention(client, widget, tenant, now):
    lead_id = body_of(post_lead(client, widget, lead_body()))["lead_id"]
    assert [e["type"] for e in events()] == ["lead.created"]
    event = only("lead.created")
    assert event["data"] == {"lead_id": lead_id, "source": "web"}
    assert event["tenant_id"] == tenant and event["id"].startswith("evt_") and event["created_at"] == clock.iso(NINE)
    expires = int(raw_events()[0]["expires_at"]["N"])
    assert expires == int((NINE + timedelta(days=365)).timestamp())  # the default audit retention
    assert_no_personal_data()


def test_a_merge_names_the_changed_fields_and_a_consent_change(client, widget, admin, now):
    lead_id = body_of(post_lead(client, widget, lead_body()))["lead_id"]
    # staff: newer values win, and the marketing grant holds at once
    merged = post_lead(client, admin, lead_body(name="Priya S.", fields=None))
    assert merged.status_code == 200, merged.body
    assert only("lead.merged")["data"] == {"lead_id": lead_id, "changed": ["name"]}
    assert only("consent.changed")["data"] == {"lead_id": lead_id, "purposes": ["marketing_email"]}
    post_lead(client, admin, lead_body(name="Priya S."))  # the same again: a merge, no consent change
    assert len(events("lead.merged")) == 2 and len(events("consent.changed")) == 1
    assert_no_personal_data()


def test_refused_submissions_write_no_event(client, widget, monkeypatch):
    monkeypatch.setenv("LEADVAULT_NOW", "2026-03-01T00:30:00Z")
    assert_error(post_lead(client, widget, lead_body(date_of_birth="2009-03-01")), 400, "minor")
    assert post_lead(client, widget, lead_body(phone="12345")).status_code == 400
    assert events() == []


def test_a_patch_names_what_it_changed_and_a_conflict_writes_nothing(client, widget, admin, monkeypatch, now):
    lead_id = body_of(post_lead(client, widget, lead_body()))["lead_id"]
    assert send(client, admin, f"/v1/leads/{lead_id}", {"stage": "contacted", "assigned_agent": "asha"},
                "PATCH").status_code == 200
    assert only("lead.updated")["data"] == {"lead_id": lead_id, "changed": ["assigned_agent", "stage"]}
    assert send(client, admin, f"/v1/leads/{lead_id}", {"stage": "contacted"}, "PATCH").status_code == 200
    assert len(events("lead.updated")) == 1  # nothing changed: no one is told

    from chalicelib.store import atomic

    real_commit = atomic.commit

    def refused(writes, counters=()):
        raise atomic.Refused(labels=["lead"])

    monkeypatch.setattr(atomic, "commit", refused)
    monkeypatch.setattr("chalicelib.services.leads.updating.time.sleep", lambda _s: None)
    assert_error(send(client, admin, f"/v1/leads/{lead_id}", {"stage": "won"}, "PATCH"), 409, "lead_changed")
    monkeypatch.setattr(atomic, "commit", real_commit)
    assert len(events("lead.updated")) == 1
    assert_no_personal_data()


# --- calls ----------------------------------------------------------------------------------


def test_an_upload_writes_one_call_stored_naming_its_calls_and_leads(client, widget, issue_key, now):
    agent = issue_key("agent", agent_id="asha")
    ours = body_of(post_lead(client, widget, lead_body()))["lead_id"]
    theirs = body_of(post_lead(client, widget, lead_body(**OTHER)))["lead_id"]
    post(client, agent, "/v1/shifts/start")
    batch = {"events": [call_event("c1", PHONE, at(NINE, minutes=1)), call_event("c2", OTHER["phone"],
                                                                                 at(NINE, minutes=2)),
                        call_event("c3", "+91 90000 99999", at(NINE, minutes=3))]}  # unknown: not stored
    assert post(client, agent, "/v1/calls", batch).status_code == 200
    event = only("call.stored")
    assert event["data"] == {"agent_id": "asha", "lead_ids": sorted([ours, theirs]),
                             "calls": [{"call_id": "c1", "lead_id": ours}, {"call_id": "c2", "lead_id": theirs}]}
    assert post(client, agent, "/v1/calls", batch).status_code == 200  # all duplicates now
    assert len(events("call.stored")) == 1
    assert_no_personal_data()


def test_an_upload_whose_batch_failed_midway_has_one_event_after_the_phone_sends_it_again(
        client, widget, tenant, issue_key, now, monkeypatch):
    import botocore.client
    from botocore.exceptions import ClientError

    from chalicelib.store.events import event_id_for

    agent = issue_key("agent", agent_id="asha")
    lead_id = body_of(post_lead(client, widget, lead_body()))["lead_id"]
    post(client, agent, "/v1/shifts/start")
    batch = {"events": [call_event(f"c{n:02d}", PHONE, at(NINE, seconds=n)) for n in range(30)]}
    make_api_call, batches = botocore.client.BaseClient._make_api_call, []

    def second_batch_fails(client_: object, operation: str, params: dict) -> object:
        if operation == "BatchWriteItem":
            batches.append(1)
            if len(batches) == 2:  # the first 25 calls landed; the rest of the upload did not
                raise ClientError({"Error": {"Code": "InternalServerError", "Message": "x"}}, operation)
        return make_api_call(client_, operation, params)

    with monkeypatch.context() as patch:
        patch.setattr(botocore.client.BaseClient, "_make_api_call", second_batch_fails)
        assert post(client, agent, "/v1/calls", batch).status_code >= 500
    assert events("call.stored") == []  # no event naming calls that never landed
    results = body_of(post(client, agent, "/v1/calls", batch))["results"]
    assert [r["status"] for r in results] == ["duplicate"] * 25 + ["stored"] * 5
    event = only("call.stored")
    assert event["data"]["calls"] == [{"call_id": f"c{n:02d}", "lead_id": lead_id} for n in range(30)]
    assert event["id"] == event_id_for(tenant, "call.stored", "#".join(["asha", *(f"c{n:02d}" for n in range(30))]))
    assert post(client, agent, "/v1/calls", batch).status_code == 200  # sent again whole: the same event
    assert only("call.stored")["id"] == event["id"]


def test_a_caller_who_becomes_a_lead_is_created_with_an_event(client, operator, tables, now):
    tenant = operator("admin_create_tenant", {"name": "Calls", "default_region": "IN",
                                              "unknown_calls_become_leads": True})["tenant_id"]
    agent = operator("admin_issue_api_key", {"tenant_id": tenant, "role": "agent", "agent_id": "ravi"})
    post(client, agent, "/v1/shifts/start")
    answer = body_of(post(client, agent, "/v1/calls", {"events": [call_event(
        "missed", "+91 90000 22222", at(NINE, minutes=1), direction="incoming", status="missed")]}))["results"]
    lead_id = answer[0]["lead_id"]
    assert only("lead.created")["data"] == {"lead_id": lead_id, "source": "call"}
    assert only("call.stored")["data"]["lead_ids"] == [lead_id]
    assert "90000" not in dump_text({"events": raw_events()})


# --- consents -------------------------------------------------------------------------------


def test_consents_recorded_by_staff_a_visitor_a_link_and_a_confirmation(client, widget, admin, now):
    lead_id = body_of(post_lead(client, widget, lead_body()))["lead_id"]
    assert send(client, admin, "/v1/consents", {"phone": PHONE, "grants": {"marketing_sms": False},
                                                "policy_version": "1"}).status_code == 201
    assert only("consent.changed")["data"] == {"lead_id": lead_id, "purposes": ["marketing_sms"], "source": "api"}
    assert send(client, widget, "/v1/consents", {"visitor_id": "v_8f2b1c9e", "grants": {"performance": True},
                                                 "policy_version": "1"}).status_code == 201
    assert len(events("consent.changed")) == 1  # a visitor has no lead: nothing to name (see below)
    # a public marketing grant waits for the person: nothing changed yet
    assert send(client, widget, "/v1/consents", {"email": EMAIL, "grants": {"marketing_email": True},
                                                 "policy_version": "1"}).status_code == 201
    assert len(events("consent.changed")) == 1
    link = confirmation_link(EMAIL_NORMALISED).split("#token=")[1]
    assert client.http.post("/v1/confirmations", body=json.dumps({"token": link}),
                            headers={"Content-Type": "application/json"}).status_code == 200
    assert by_source("double_opt_in") == {"lead_id": lead_id, "purposes": ["marketing_email"],
                                          "source": "double_opt_in"}
    token = preferences_token(EMAIL_NORMALISED)
    assert client.http.post("/v1/preferences", body=json.dumps({"token": token, "grants": {"marketing_calls": True}}),
                            headers={"Content-Type": "application/json"}).status_code == 200
    assert by_source("preferences_link") == {"lead_id": lead_id, "purposes": ["marketing_calls"],
                                             "source": "preferences_link"}
    assert len(events("consent.changed")) == 3
    assert_no_personal_data()


def test_a_person_without_a_lead_is_never_named_in_an_event(client, widget, admin, tenant, now):
    """A subject ledger is named by a keyed hash of an e-mail, phone or visitor id: a stable pseudonym that
    must not leave for the tenant's other systems nor stay in the log after the person is erased."""
    from chalicelib.services.tenants.tenancy import require_tenant
    from chalicelib.vault.blind_index import blind_index

    assert send(client, admin, "/v1/consents", {"email": EMAIL, "grants": {"marketing_sms": False},
                                                "policy_version": "1"}).status_code == 201
    assert send(client, widget, "/v1/consents", {"visitor_id": "v_8f2b1c9e", "grants": {"performance": True},
                                                 "policy_version": "1"}).status_code == 201
    assert send(client, widget, "/v1/consents", {"email": EMAIL, "grants": {"marketing_email": True},
                                                 "policy_version": "1"}).status_code == 201
    link = confirmation_link(EMAIL_NORMALISED).split("#token=")[1]
    assert client.http.post("/v1/confirmations", body=json.dumps({"token": link}),
                            headers={"Content-Type": "application/json"}).status_code == 200
    owner = require_tenant(tenant)
    indexes = [blind_index(owner, "email", EMAIL_NORMALISED), blind_index(owner, "visitor", "v_8f2b1c9e")]
    text = dump_text({"events": raw_events()})
    assert "subject#" not in text and not [ref for ref in indexes if ref in text]
    assert events("consent.changed") == []


def by_source(source: str) -> dict:
    found = [e["data"] for e in events("consent.changed") if e["data"].get("source") == source]
    assert len(found) == 1, found
    return found[0]


# --- rights and retention -------------------------------------------------------------------


def test_an_erasure_writes_lead_erased_and_its_completion(client, widget, tenant, now):
    from chalicelib.store.events import event_id_for
    from tests.unit.test_privacy_requests import file, verify, work

    lead_id = body_of(post_lead(client, widget, lead_body()))["lead_id"]
    request = file(client, widget)
    assert body_of(verify(client, widget, request["request_id"], last_code(EMAIL_NORMALISED)))["status"] == "verified"
    assert work()["completed"] == 1
    erased = only("lead.erased")
    assert erased["data"] == {"lead_id": lead_id, "reason": "erasure"}
    assert erased["id"] == event_id_for(tenant, "lead.erased", lead_id)  # a rerun writes this one again
    completed = only("privacy.request_completed")
    assert completed["data"]["request_id"] == request["request_id"] and completed["data"]["request_type"] == "erasure"
    assert completed["data"]["receipt"]["leads"] == 1
    assert work()["completed"] == 0 and len(events("privacy.request_completed")) == 1
    assert_no_personal_data()


def test_an_access_request_completion_and_a_rejection(client, widget, operator, tenant, now):
    from tests.unit.test_privacy_requests import file, verify, work

    post_lead(client, widget, lead_body())
    access = file(client, widget, type="access")
    verify(client, widget, access["request_id"], last_code(EMAIL_NORMALISED))
    assert work()["completed"] == 1
    assert only("privacy.request_completed")["data"]["request_type"] == "access"
    # a legal hold rejects an erasure: no request completed, no lead erased
    lead_id = events("lead.created")[0]["data"]["lead_id"]
    operator("admin_legal_hold", {"tenant_id": tenant, "lead_id": lead_id, "on": True, "reason": "case-9"})
    erasure = file(client, widget)
    verify(client, widget, erasure["request_id"], last_code(EMAIL_NORMALISED))
    assert work()["rejected"] == 1
    assert len(events("privacy.request_completed")) == 1 and events("lead.erased") == []


def test_the_retention_purge_writes_lead_erased(client, widget, now):
    lead_id = body_of(post_lead(client, widget, lead_body()))["lead_id"]
    now(NINE + timedelta(days=366))
    assert invoke_job("purge_expired", LocalContext("purge_expired", timeout_s=60))["leads"] == 1
    assert only("lead.erased")["data"] == {"lead_id": lead_id, "reason": "retention"}


# --- policies -------------------------------------------------------------------------------


def test_a_tenant_policy_is_published_with_its_event_once(operator, tenant, now):
    policy = {"version": "2026-12", "url": "https://acme.example/privacy", "summary": "Shorter retention.",
              "effective_at": "2026-12-20T00:00:00Z"}
    published = operator("admin_publish_policy", {**policy, "scope": "tenant", "tenant_id": tenant})
    assert only("policy.published")["data"] == {"policy_id": published["policy_id"], "version": "2026-12",
                                                "scope": "tenant"}
    assert operator("admin_publish_policy", {**policy, "scope": "tenant", "tenant_id": tenant}) == published
    operator("admin_publish_policy", {**policy, "scope": "platform"})  # every tenant's: no one tenant's event
    assert len(events("policy.published")) == 1


# --- the repository -------------------------------------------------------------------------


def test_an_event_carries_only_its_types_keys():
    from chalicelib.store.events import new_event

    moment = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="carries only"):
        new_event("ten_1", "lead.created", {"lead_id": "led_1", "email": "x@example.org"}, moment, moment)
    with pytest.raises(ValueError, match="unknown event type"):
        new_event("ten_1", "lead.sold", {}, moment, moment)
    event = new_event("ten_1", "lead.erased", {"lead_id": "led_1", "reason": "erasure"}, moment, moment,
                      once_for="led_1")
    again = new_event("ten_1", "lead.erased", {"lead_id": "led_1", "reason": "erasure"}, moment, moment,
                      once_for="led_1")
    fresh = new_event("ten_1", "lead.created", {"lead_id": "led_1"}, moment, moment)
    assert event.event_id == again.event_id != fresh.event_id
    assert len(fresh.event_id) == len("evt_") + 32


def test_recent_events_of_a_tenant_newest_first(client, widget, tenant, now):
    from chalicelib.store.events import recent

    post_lead(client, widget, lead_body())
    now(NINE + timedelta(minutes=1))
    post_lead(client, widget, lead_body(**OTHER))
    assert [e.type for e in recent(tenant, 10)] == ["lead.created", "lead.created"]
    newest = list(recent(tenant, 1))
    assert newest[0].created_at == NINE + timedelta(minutes=1)
    assert list(recent("ten_someoneelse", 10)) == []
