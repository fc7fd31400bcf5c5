"""Batches under DynamoDB's partial answers: throttled PartiQL statements, unprocessed keys, and a call
upload whose contact clocks failed, sent again by the phone (issue 14, point 4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib import clock
from chalicelib.store import batch
from tests.support.field import at, call_event, post
from tests.support.http import bearer, body_of
from tests.support.leads import lead_body, post_lead
from tests.support.partial_batches import install

NINE = datetime(2026, 11, 20, 9, 0, 0, tzinfo=UTC)
PHONES = [f"+91 98000 40{n:03d}" for n in range(30)]


@pytest.fixture
def flaky(monkeypatch):
    """Install a :class:`Flaky` client; returns the installer."""
    return lambda fail, **options: install(monkeypatch, fail, **options)


@pytest.fixture
def worked(client, widget, issue_key, monkeypatch):
    """30 leads, an agent on shift since nine; the clock at eleven. Returns (agent key, lead ids)."""
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(NINE))
    lead_ids = [body_of(post_lead(client, widget, lead_body(phone=phone, email=None)))["lead_id"] for phone in PHONES]
    agent = issue_key("agent", agent_id="asha")
    assert post(client, agent, "/v1/shifts/start").status_code == 201
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(NINE + timedelta(hours=2)))
    return agent, lead_ids


def _statements(lead_ids: list[str]) -> list[dict[str, Any]]:
    from chalicelib.store.models.leads import LeadRecord

    table = LeadRecord.Meta.table_name
    return [{"Statement": f'UPDATE "{table}" SET tags_note=? WHERE lead_id=? AND version=?',  # noqa: S608
             "Parameters": [{"S": f"n{n}"}, {"S": lead_id}, {"N": "1"}]}
            for n, lead_id in enumerate(lead_ids)]


def test_throttled_statements_are_sent_again_alone_and_refusals_keep_their_index(worked, flaky):
    _agent, lead_ids = worked
    # lead 3 and 27 throttled twice, lead 12 once; lead 5 and 26 refused (changed since read)
    fake = flaky({lead_ids[3]: 2, lead_ids[27]: 2, lead_ids[12]: 1}, refuse=frozenset({lead_ids[5], lead_ids[26]}))
    assert batch.execute_statements(_statements(lead_ids)) == [5, 26]
    assert fake.sent[0] == lead_ids[:25]
    assert fake.sent[1] == [lead_ids[3], lead_ids[12]]  # only the failed ones, in order
    assert fake.sent[2] == [lead_ids[3]]
    assert fake.sent[3] == lead_ids[25:]
    assert fake.sent[4:] == [[lead_ids[27]], [lead_ids[27]]]
    raw = _raw_notes(lead_ids)
    assert [lead_id for lead_id in lead_ids if raw[lead_id] is None] == [lead_ids[5], lead_ids[26]]


def _raw_notes(lead_ids: list[str]) -> dict[str, str | None]:
    from chalicelib.store.models.leads import LeadRecord

    client = batch._client()
    found = {}
    for lead_id in lead_ids:
        item = client.get_item(TableName=LeadRecord.Meta.table_name, Key={"lead_id": {"S": lead_id}},
                               ConsistentRead=True)["Item"]
        found[lead_id] = item.get("tags_note", {}).get("S")
    return found


@pytest.mark.parametrize("code", ["ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded",
                                  "InternalServerError", "TransactionConflict"])
def test_each_retryable_error_is_retried(worked, flaky, code):
    _agent, lead_ids = worked
    fake = flaky({lead_ids[0]: 3}, code=code)
    assert batch.execute_statements(_statements(lead_ids[:2])) == []
    assert fake.sent == [lead_ids[:2], [lead_ids[0]], [lead_ids[0]], [lead_ids[0]]]


def test_a_statement_that_keeps_failing_raises_after_bounded_attempts(worked, flaky):
    _agent, lead_ids = worked
    fake = flaky({lead_ids[1]: 1000})
    with pytest.raises(batch.BatchIncomplete, match="1 statements kept failing: ThrottlingError"):
        batch.execute_statements(_statements(lead_ids[:3]))
    assert len(fake.sent) == batch.MAX_ATTEMPTS


def test_an_error_no_retry_cures_raises_at_once(worked, flaky):
    _agent, lead_ids = worked
    fake = flaky({lead_ids[1]: 1000}, code="ValidationError")
    with pytest.raises(batch.BatchIncomplete, match="ValidationError"):
        batch.execute_statements(_statements(lead_ids[:3]))
    assert len(fake.sent) == 1


def test_unprocessed_keys_are_read_again(worked, flaky):
    from chalicelib.store.models.leads import LeadRecord

    _agent, lead_ids = worked
    fake = flaky({}, unread=3)
    found = batch.get_all([(LeadRecord, lead_id) for lead_id in lead_ids])
    assert sorted(found) == sorted(lead_ids) and fake.gets == 4


def _expiry_and_contact(client, admin, lead_ids):
    views = [body_of(client.http.get(f"/v1/leads/{lead_id}", headers=bearer(admin))) for lead_id in lead_ids]
    return [(view["expires_at"], view["last_contacted_at"]) for view in views]


def upload(client, agent, events):
    return post(client, agent, "/v1/calls", {"events": events})


def test_an_upload_whose_clocks_failed_answers_5xx_and_its_retry_moves_them(worked, flaky, client, admin):
    """The issue's case: 30 calls stored, 10 leads' clock updates throttled past every retry; the phone
    sends the batch again, sees duplicates, and every lead's clock and expiry moved."""
    agent, lead_ids = worked
    before = _expiry_and_contact(client, admin, lead_ids)
    events = [call_event(f"c{n}", PHONES[n], at(NINE, minutes=30 + n)) for n in range(30)]
    flaky({lead_id: 1000 for lead_id in lead_ids[::3]})
    failed = upload(client, agent, events)
    assert failed.status_code == 500
    after_failure = _expiry_and_contact(client, admin, lead_ids)
    assert [after_failure[n] == before[n] for n in range(30)].count(True) >= 10  # not acknowledged, not done
    flaky({})
    retried = upload(client, agent, events)
    assert retried.status_code == 200
    assert {result["status"] for result in body_of(retried)["results"]} == {"duplicate"}
    moved = _expiry_and_contact(client, admin, lead_ids)
    for n, (expires_at, contacted) in enumerate(moved):
        assert contacted == at(NINE, minutes=30 + n)
        assert expires_at > before[n][0]


def test_transient_throttling_of_the_clocks_is_absorbed(worked, flaky, client, admin):
    agent, lead_ids = worked
    fake = flaky({lead_id: 2 for lead_id in lead_ids[::2]})
    events = [call_event(f"c{n}", PHONES[n], at(NINE, minutes=30 + n)) for n in range(30)]
    answer = upload(client, agent, events)
    assert answer.status_code == 200
    assert {result["status"] for result in body_of(answer)["results"]} == {"stored"}
    assert [contacted for _, contacted in _expiry_and_contact(client, admin, lead_ids)] == \
        [at(NINE, minutes=30 + n) for n in range(30)]
    assert len(fake.sent) > 2


def test_a_retry_of_a_completed_upload_writes_nothing(worked, client):
    import botocore.client

    agent, _lead_ids = worked
    events = [call_event(f"c{n}", PHONES[n], at(NINE, minutes=30 + n)) for n in range(30)]
    assert upload(client, agent, events).status_code == 200
    writes: list[str] = []
    make_api_call = botocore.client.BaseClient._make_api_call

    def counted(client_: object, operation: str, params: dict) -> object:
        writes.append(operation)
        return make_api_call(client_, operation, params)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.client.BaseClient, "_make_api_call", counted)
        again = upload(client, agent, events)
    assert {result["status"] for result in body_of(again)["results"]} == {"duplicate"}
    assert "BatchExecuteStatement" not in writes and "BatchWriteItem" not in writes
