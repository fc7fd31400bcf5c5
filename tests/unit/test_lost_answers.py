"""Writes whose answer was lost, and keyed requests retried: never a false conflict, never done twice.

A lost answer is simulated as the SDK meets it: the write applies, and the SDK's retry of the very
same call is what the code sees (for a conditional write, a refusal by its own first attempt).
The same faults against DynamoDB Local, through a fault-injecting proxy, are in ``tests/chaos``.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from chalicelib.errors import IdempotencyConflict, RequestInProgress
from chalicelib.services import idempotency
from chalicelib.store.models.claims import IdempotencyRecord
from chalicelib.store.models.leads import LeadRecord
from chalicelib.store.models.privacy import PrivacyRequestRecord
from chalicelib.store.models.shifts import ShiftRecord
from tests.support.field import post
from tests.support.http import assert_error, bearer, body_of
from tests.support.leads import lead_body, post_lead
from tests.support.outbox import last_code
from tests.support.people import EMAIL, EMAIL_NORMALISED
from tests.support.tables import scan_everything

CONSENT = {"visitor_id": "v-12345678", "grants": {"performance": True}, "policy_version": "2026-11"}


def retried_after_applying(monkeypatch, model, method: str) -> list[int]:
    """Make ``model.method`` apply, then answer as the SDK's retry of it would; returns a call count."""
    original = getattr(model, method)
    calls: list[int] = []

    def twice(self, *args, **kwargs):
        calls.append(1)
        original(self, *args, **kwargs)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(model, method, twice)
    return calls


def give(client, key, body, idempotency_key=None):
    headers = {"Content-Type": "application/json"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    return client.http.post("/v1/consents", body=json.dumps(body), headers=bearer(key, **headers))


def consent_entries() -> int:
    return sum(1 for name, items in scan_everything().items() if name.endswith("timeline")
               for item in items if item.get("type", {}).get("S") == "consent")


@pytest.fixture
def agent(issue_key):
    return issue_key("agent", agent_id="asha")


def test_a_shift_end_whose_answer_was_lost_is_not_a_conflict(client, agent, monkeypatch):
    assert post(client, agent, "/v1/shifts/start").status_code == 201
    with monkeypatch.context() as patch:
        calls = retried_after_applying(patch, ShiftRecord, "update")
        ended = post(client, agent, "/v1/shifts/end")
    assert calls and ended.status_code == 200, ended.body
    # It really is closed: another end finds nothing open, a new start is allowed.
    assert_error(post(client, agent, "/v1/shifts/end"), 409, "no_open_shift")
    assert post(client, agent, "/v1/shifts/start").status_code == 201


def test_a_versioned_lead_update_whose_answer_was_lost_is_applied_once(client, widget, monkeypatch):
    lead_id = body_of(post_lead(client, widget, lead_body()))["lead_id"]
    # A consent by the lead's e-mail refreshes the lead's consent summary with a versioned update.
    with monkeypatch.context() as patch:
        calls = retried_after_applying(patch, LeadRecord, "update")
        given = give(client, widget, {"email": EMAIL, "grants": {"marketing_email": False},
                                      "policy_version": "2026-11"})
    assert calls and given.status_code == 201, given.body
    # Recognised as ours: not read as a lost race and written a second time.
    assert LeadRecord.get(lead_id, consistent_read=True).version == 2


def test_a_keyed_merge_replays_its_answer(client, widget):
    lead_id = body_of(post_lead(client, widget, lead_body()))["lead_id"]
    merged = post_lead(client, widget, lead_body(), **{"Idempotency-Key": "merge-1"})
    assert merged.status_code == 200 and body_of(merged)["lead_id"] == lead_id
    again = post_lead(client, widget, lead_body(), **{"Idempotency-Key": "merge-1"})
    assert (again.status_code, body_of(again)) == (200, body_of(merged))
    assert LeadRecord.get(lead_id, consistent_read=True).version == 2


def test_a_keyed_request_that_failed_after_writing_is_not_done_again(client, widget, monkeypatch):
    from chalicelib.services.rights import consents

    def broken(*args, **kwargs):
        raise RuntimeError("the lead's summary could not be written")

    post_lead(client, widget, lead_body())
    body = {"email": EMAIL, "grants": {"marketing_email": False}, "policy_version": "2026-11"}
    with monkeypatch.context() as patch:
        patch.setattr(consents.leads, "set_consents", broken)
        assert give(client, widget, body, "half-1").status_code == 500
    entries = consent_entries()
    # The ledger entry stands: the retry is told to wait for the claim's lease, not recorded again.
    assert_error(give(client, widget, body, "half-1"), 409, "request_in_progress")
    assert consent_entries() == entries


def test_a_key_claim_whose_answer_was_lost_is_ours(client, widget, monkeypatch):
    with monkeypatch.context() as patch:
        calls = retried_after_applying(patch, IdempotencyRecord, "save")
        first = give(client, widget, CONSENT, "consent-1")
    assert calls and first.status_code == 201, first.body
    again = give(client, widget, CONSENT, "consent-1")
    assert (again.status_code, body_of(again)) == (201, body_of(first))
    assert consent_entries() == 1


def test_a_retry_while_the_first_attempt_works_is_409_in_progress(client, widget, tenant):
    key = idempotency.idempotency_key(tenant, widget["key_id"], "busy-1", "POST /v1/consents []", CONSENT)
    idempotency.claim(key)  # the first attempt, still working
    response = give(client, widget, CONSENT, "busy-1")
    assert_error(response, 409, "request_in_progress")
    assert response.headers["Retry-After"] == "1"
    assert consent_entries() == 0


def test_a_claim_whose_lease_ended_is_taken_over(tables, tenant):
    key = idempotency.idempotency_key(tenant, "key_x", "dead-1", "POST /v1/things []", {"a": 1})
    dead = idempotency.claim(key, lease=timedelta(seconds=-1))  # its request died holding it
    taken = idempotency.claim(key)
    assert taken.replay is None and taken.owner != dead.owner
    with pytest.raises(RequestInProgress):
        idempotency.claim(key)
    other_body = idempotency.idempotency_key(tenant, "key_x", "dead-1", "POST /v1/things []", {"a": 2})
    with pytest.raises(IdempotencyConflict):
        idempotency.claim(other_body)


def test_a_refused_request_gives_its_key_back(client, widget):
    assert_error(give(client, widget, {**CONSENT, "grants": "yes"}, "fix-1"), 400, "validation_error")
    # The client fixes its body and retries with the same key: no conflict, the fixed request is done.
    fixed = give(client, widget, CONSENT, "fix-1")
    assert fixed.status_code == 201 and consent_entries() == 1


def test_an_answer_that_could_not_be_kept_still_answers_and_is_never_redone(client, widget, monkeypatch):
    from chalicelib.services.idempotency import changes

    def throttled(*items):
        raise RuntimeError("throttled beyond every retry")

    with monkeypatch.context() as patch:
        patch.setattr(changes, "save", throttled)
        patch.setattr(idempotency.time, "sleep", lambda _: None)
        first = give(client, widget, CONSENT, "kept-1")
    assert first.status_code == 201, first.body
    # The claim stands until its lease ends: a retry waits instead of recording the consent again.
    assert_error(give(client, widget, CONSENT, "kept-1"), 409, "request_in_progress")
    assert consent_entries() == 1


def test_a_publication_whose_claim_answer_was_lost_is_published(operator, tenant, monkeypatch):
    payload = {"scope": "tenant", "tenant_id": tenant, "version": "2027-01", "url": "https://acme.example/p",
               "summary": "Shorter retention.", "effective_at": "2027-01-01T00:00:00Z"}
    with monkeypatch.context() as patch:
        calls = retried_after_applying(patch, IdempotencyRecord, "save")
        first = operator("admin_publish_policy", payload)
    assert calls and "policy_id" in first, first
    assert operator("admin_publish_policy", payload) == first
    assert operator("admin_policy_status", {"policy_id": first["policy_id"]})["recipients"] == first["recipients"]


def _file_request(client, widget):
    response = client.http.post("/v1/privacy-requests", body=json.dumps({"type": "access", "email": EMAIL}),
                                headers=bearer(widget, **{"Content-Type": "application/json"}))
    assert response.status_code == 202, response.body
    return body_of(response)["request_id"]


def _verify(client, widget, request_id, code):
    return client.http.post(f"/v1/privacy-requests/{request_id}/verify", body=json.dumps({"code": code}),
                            headers=bearer(widget, **{"Content-Type": "application/json"}))


def test_a_code_attempt_whose_answer_was_lost_counts_once(client, widget, monkeypatch):
    request_id = _file_request(client, widget)
    with monkeypatch.context() as patch:
        calls = retried_after_applying(patch, PrivacyRequestRecord, "update")
        assert_error(_verify(client, widget, request_id, "000000" if last_code(EMAIL_NORMALISED) != "000000"
                             else "111111"), 400, "invalid_code")
    assert calls and PrivacyRequestRecord.get(request_id, consistent_read=True).attempts == 1


def test_a_verification_whose_answer_was_lost_is_verified_and_audited(client, widget, monkeypatch):
    request_id = _file_request(client, widget)
    with monkeypatch.context() as patch:
        retried_after_applying(patch, PrivacyRequestRecord, "update")
        answer = _verify(client, widget, request_id, last_code(EMAIL_NORMALISED))
    assert (answer.status_code, body_of(answer)) == (200, {"status": "verified"})
    audit = [item["action"]["S"] for name, items in scan_everything().items() if name.endswith("audit_log")
             for item in items]
    assert "privacy_request.verify" in audit


def test_a_version_published_long_ago_with_another_text_is_refused(operator, tenant, monkeypatch):
    from chalicelib import clock

    payload = {"scope": "tenant", "tenant_id": tenant, "version": "2027-02", "url": "https://acme.example/p",
               "summary": "Shorter retention.", "effective_at": "2027-02-01T00:00:00Z"}
    first = operator("admin_publish_policy", payload)
    assert "policy_id" in first, first
    # A day later the claim on the version has expired; the version itself has not.
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(clock.now() + timedelta(hours=25)))
    other = operator("admin_publish_policy", {**payload, "summary": "Something else."})
    assert other["error"]["code"] == "version_exists"
    assert operator("admin_publish_policy", payload) == first


def test_a_claim_that_applied_but_then_failed_is_given_back(client, widget, monkeypatch):
    from pynamodb.exceptions import PutError

    original = IdempotencyRecord.save

    def applied_then_failed(self, *args, **kwargs):
        original(self, *args, **kwargs)  # it applied; every answer after that was lost
        raise PutError("lost", cause=RuntimeError("InternalServerError"))

    with monkeypatch.context() as patch:
        patch.setattr(IdempotencyRecord, "save", applied_then_failed)
        assert give(client, widget, CONSENT, "lost-claim").status_code == 500
    # Not left holding the key for its lease: the client's retry is done at once.
    assert give(client, widget, CONSENT, "lost-claim").status_code == 201
    assert consent_entries() == 1
