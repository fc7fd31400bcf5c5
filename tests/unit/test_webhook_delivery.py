"""Delivery of the event log to webhooks: the stream handler, the retry schedule, disabling after 72 hours.

The receiver is a fake (the one function that sends, replaced): it records each call and answers as told.
Stream records are built from the events table as DynamoDB Streams would carry them (``NEW_IMAGE``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import clock, invocation
from chalicelib.jobs import invoke_job, invoke_stream
from chalicelib.notify.webhooks import Outcome
from chalicelib.runtime import LocalContext
from chalicelib.services.webhooks import retries
from tests.support.http import bearer, body_of
from tests.support.leads import lead_body, post_lead
from tests.support.outbox import messages
from tests.support.people import PLAINTEXT_MARKERS
from tests.support.published import publish_versions

NOON = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)


class FakeReceiver:
    """Answers each attempt from a script (then ``ok``), recording what it was sent."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.script: list[str] = []  # "ok", "down" (connect_failed), "500"
        self.default = "ok"

    def __call__(self, url, secret, event_id, event_type, body, **kwargs):
        self.calls.append({"url": url, "event_id": event_id, "event_type": event_type, "body": json.loads(body)})
        answer = self.script.pop(0) if self.script else self.default
        if answer == "ok":
            return Outcome(True, 204)
        if answer == "down":
            return Outcome(False, error="connect_failed")
        return Outcome(False, int(answer), "http_status")

    def ids(self) -> list[str]:
        return [call["event_id"] for call in self.calls]


@pytest.fixture
def receiver(monkeypatch) -> FakeReceiver:
    fake = FakeReceiver()
    monkeypatch.setattr("chalicelib.services.webhooks.deliveries.deliver", fake)
    return fake


@pytest.fixture
def at(monkeypatch):
    def move(moment: datetime) -> datetime:
        monkeypatch.setenv("LEADVAULT_NOW", clock.iso(moment))
        return moment

    move(NOON)
    return move


def subscribe(client, admin, url="http://127.0.0.1:9/hooks", types=("lead.created",)) -> str:
    made = client.http.post("/v1/webhooks", body=json.dumps({"url": url, "event_types": list(types)}).encode(),
                            headers=bearer(admin, **{"Content-Type": "application/json"}))
    assert made.status_code == 201, made.body
    return body_of(made)["webhook_id"]


def stream_records(name: str = "INSERT") -> list[dict]:
    """Every event of the events table as a stream record in Lambda's shape, in the order written."""
    from chalicelib.store.models.events import EventRecord

    with invocation.invocation():
        found = sorted(EventRecord.scan(), key=lambda event: event.created_sort)
    return [{"eventID": f"e{number}", "eventName": name, "eventSource": "aws:dynamodb",
             "dynamodb": {"Keys": {"event_id": {"S": event.event_id}}, "NewImage": event.serialize(),
                          "SequenceNumber": f"{number:021d}", "StreamViewType": "NEW_IMAGE"}}
            for number, event in enumerate(found, start=1)]


def deliver(records: list[dict]) -> dict:
    return invoke_stream("deliver_webhooks", records, LocalContext("deliver_webhooks", timeout_s=120))


def retry() -> dict:
    return invoke_job("retry_webhooks", LocalContext("retry_webhooks", timeout_s=120))


def deliveries(client, admin, webhook_id) -> list[dict]:
    return body_of(client.http.get(f"/v1/webhooks/{webhook_id}/deliveries", headers=bearer(admin)))["items"]


def webhook(client, admin, webhook_id) -> dict:
    listed = body_of(client.http.get("/v1/webhooks", headers=bearer(admin)))["items"]
    return next(item for item in listed if item["webhook_id"] == webhook_id)


def new_lead(client, widget, number: int = 0) -> str:
    body = lead_body(phone=f"+91 98765 4{number:04d}", email=f"p{number}@example.org")
    answer = post_lead(client, widget, body)
    assert answer.status_code == 201, answer.body
    return body_of(answer)["lead_id"]


# --- the handler -----------------------------------------------------------------------------

def test_a_new_leads_event_is_delivered_once_and_a_replayed_record_sends_nothing(
        client, admin, widget, receiver, at):
    hook = subscribe(client, admin)
    lead_id = new_lead(client, widget)
    records = [r for r in stream_records() if r["dynamodb"]["NewImage"]["type"]["S"] == "lead.created"]
    assert deliver(records) == {"batchItemFailures": []}
    assert len(receiver.calls) == 1
    sent = receiver.calls[0]["body"]
    assert sent["type"] == "lead.created" and sent["data"]["lead_id"] == lead_id and sent["id"].startswith("evt_")
    assert receiver.calls[0]["event_id"] == sent["id"]
    for marker in PLAINTEXT_MARKERS:  # ids, types, times and field names: no personal data
        assert marker.lower() not in json.dumps(sent).lower(), marker
    # The same record again (Lambda's retry, the local poller restarted at TRIM_HORIZON): nothing is sent.
    deliver(records)
    deliver([{**record, "eventName": "MODIFY"} for record in records])  # the change rerun, its event rewritten
    assert len(receiver.calls) == 1
    [logged] = deliveries(client, admin, hook)
    assert logged["status"] == "delivered" and logged["attempts"] == 1 and logged["next_attempt_at"] is None


def test_only_subscribed_types_of_the_events_own_tenant_are_told(client, admin, widget, issue_key, operator,
                                                                   receiver, at):
    mine = subscribe(client, admin, url="http://127.0.0.1:9/mine")
    subscribe(client, admin, url="http://127.0.0.1:9/erasures-only", types=("lead.erased",))
    other_tenant = operator("admin_create_tenant", {"name": "Other Co", "default_region": "IN"})["tenant_id"]
    other_admin = issue_key("admin", tenant_id=other_tenant)
    subscribe(client, other_admin, url="http://127.0.0.1:9/theirs")
    new_lead(client, widget)
    deliver(stream_records())
    assert [call["url"] for call in receiver.calls] == ["http://127.0.0.1:9/mine"]
    assert [item["event_type"] for item in deliveries(client, admin, mine)] == ["lead.created"]


def test_removals_and_unreadable_records_are_passed_over(client, admin, widget, receiver, at):
    subscribe(client, admin)
    new_lead(client, widget)
    [record] = [r for r in stream_records() if r["dynamodb"]["NewImage"]["type"]["S"] == "lead.created"]
    removal = {**record, "eventName": "REMOVE"}
    garbled = {**record, "dynamodb": {**record["dynamodb"], "NewImage": {"nonsense": {"S": "x"}}}}
    assert deliver([removal, garbled]) == {"batchItemFailures": []}
    assert receiver.calls == []


def test_a_record_whose_deliveries_cannot_be_stored_is_read_again_and_the_others_go_on(
        client, admin, widget, issue_key, operator, receiver, at, monkeypatch):
    from chalicelib.store import webhooks

    subscribe(client, admin, url="http://127.0.0.1:9/mine")
    other_tenant = operator("admin_create_tenant", {"name": "Other Co", "default_region": "IN"})["tenant_id"]
    publish_versions(other_tenant)
    subscribe(client, issue_key("admin", tenant_id=other_tenant), url="http://127.0.0.1:9/theirs")
    new_lead(client, widget)
    new_lead(client, issue_key("widget", tenant_id=other_tenant), 1)
    real = webhooks.open_delivery

    def failing_for_mine(subscription, **kwargs):
        if subscription.url.endswith("/mine"):
            raise RuntimeError("throttled")
        return real(subscription, **kwargs)

    monkeypatch.setattr(webhooks, "open_delivery", failing_for_mine)
    records = [r for r in stream_records() if r["dynamodb"]["NewImage"]["type"]["S"] == "lead.created"]
    mine = next(r for r in records if r["dynamodb"]["NewImage"]["tenant_id"]["S"] != other_tenant)
    answer = deliver(records)
    assert answer["batchItemFailures"] == [{"itemIdentifier": mine["dynamodb"]["SequenceNumber"]}]
    assert [call["url"] for call in receiver.calls] == ["http://127.0.0.1:9/theirs"]
    monkeypatch.setattr(webhooks, "open_delivery", real)
    deliver([mine])  # read again: now delivered
    assert [call["url"] for call in receiver.calls] == ["http://127.0.0.1:9/theirs", "http://127.0.0.1:9/mine"]


# --- the retry schedule ----------------------------------------------------------------------

class Highest:
    @staticmethod
    def uniform(low: float, high: float) -> float:
        return high


def test_backoff_starts_at_a_minute_doubles_and_stops_at_an_hour():
    assert [retries.backoff(n, Highest).total_seconds() for n in range(1, 10)] == [
        60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]
    for n in range(1, 10):  # jittered below the step, never above
        assert 0.75 * min(60 * 2 ** (n - 1), 3600) <= retries.backoff(n).total_seconds() <= min(60 * 2 ** (n - 1), 3600)


def test_a_failed_delivery_is_retried_with_backoff_until_the_receiver_answers(client, admin, widget, receiver, at):
    hook = subscribe(client, admin)
    new_lead(client, widget)
    receiver.script = ["down", "500"]
    records = stream_records()
    deliver(records)
    [first] = deliveries(client, admin, hook)
    assert first["status"] == "failed" and first["last_error"] == "connect_failed"
    due = clock.parse_timestamp(first["next_attempt_at"])
    assert NOON + timedelta(seconds=45) <= due <= NOON + timedelta(seconds=60)
    assert webhook(client, admin, hook)["failing_since"] == clock.iso(NOON)
    deliver(records)  # replayed: the retry schedule has it
    assert retry()["unfinished"] == 0  # nothing due yet
    assert len(receiver.calls) == 1
    due += timedelta(seconds=1)  # the view's time is to the second; the stored one to the microsecond
    at(due)
    retry()
    [second] = deliveries(client, admin, hook)
    assert second["attempts"] == 2 and second["last_status"] == 500
    assert due + timedelta(seconds=89) <= clock.parse_timestamp(second["next_attempt_at"]) <= due + timedelta(minutes=2)
    at(due + timedelta(minutes=2))
    retry()
    [third] = deliveries(client, admin, hook)
    assert third["status"] == "delivered" and third["attempts"] == 3 and third["next_attempt_at"] is None
    assert len(set(receiver.ids())) == 1 and len(receiver.calls) == 3  # one event, one id, three attempts
    assert webhook(client, admin, hook)["failing_since"] is None  # a success clears it
    at(NOON + timedelta(hours=5))
    retry()
    assert len(receiver.calls) == 3


def test_a_dead_receiver_costs_a_batch_one_attempt_and_gets_everything_once_back(
        client, admin, widget, receiver, at):
    hook = subscribe(client, admin)
    lead_ids = [new_lead(client, widget, number) for number in range(3)]
    receiver.default = "down"
    deliver(stream_records())
    assert len(receiver.calls) == 1  # the others are left to the retry schedule
    at(NOON + timedelta(minutes=3))
    retry()
    assert len(receiver.calls) == 2  # one probe a run; the rest moved later without an attempt
    receiver.default = "ok"
    at(NOON + timedelta(hours=2))
    retry()
    statuses = {item["event_id"]: item["status"] for item in deliveries(client, admin, hook)}
    assert set(statuses.values()) == {"delivered"} and len(statuses) == 3
    delivered = [call for call in receiver.calls if call["body"]["data"]["lead_id"] in lead_ids]
    assert {call["body"]["data"]["lead_id"] for call in delivered} == set(lead_ids)
    # Every duplicate carries the id of the event it repeats.
    for call in receiver.calls:
        assert call["event_id"] == call["body"]["id"]


def test_a_webhook_failing_for_72_hours_is_disabled_and_its_admins_are_told(
        client, issue_key, widget, receiver, at):
    admin = issue_key("admin", email="owner@acme.example")
    hook = subscribe(client, admin)
    new_lead(client, widget)
    receiver.default = "500"
    deliver(stream_records())
    at(NOON + timedelta(hours=71))
    retry()
    assert webhook(client, admin, hook)["status"] == "active"
    at(NOON + timedelta(hours=73))
    summary = retry()
    assert summary["disabled"] == 1
    assert webhook(client, admin, hook)["status"] == "disabled"
    [logged] = deliveries(client, admin, hook)
    assert logged["status"] == "failed" and logged["next_attempt_at"] is None  # retried for 72 hours, then left
    notices = body_of(client.http.get("/v1/notifications", headers=bearer(admin)))["items"]
    assert [notice["kind"] for notice in notices] == ["webhook_disabled"]
    assert hook in notices[0]["summary"] and notices[0]["url"].endswith(f"/v1/webhooks/{hook}/deliveries")
    [mail] = [m for m in messages() if m["to"] == "owner@acme.example"]
    assert hook in mail["text"] and mail["subject"] == "Acme Leads: a LeadVault webhook was disabled"
    # Disabled: new events are not sent to it, and nothing is retried.
    calls = len(receiver.calls)
    new_lead(client, widget, 1)
    deliver(stream_records())
    at(NOON + timedelta(hours=80))
    retry()
    assert len(receiver.calls) == calls


def test_a_success_within_72_hours_starts_the_count_again(client, admin, widget, receiver, at):
    hook = subscribe(client, admin)
    new_lead(client, widget)
    receiver.default = "500"
    deliver(stream_records())
    receiver.script = ["ok"]  # the next attempt gets through
    at(NOON + timedelta(hours=70))
    retry()
    assert webhook(client, admin, hook)["failing_since"] is None
    new_lead(client, widget, 1)
    at(NOON + timedelta(hours=73))
    deliver(stream_records())  # fails: failing since now, not since noon
    retry()
    assert webhook(client, admin, hook)["status"] == "active"
    assert webhook(client, admin, hook)["failing_since"] == clock.iso(NOON + timedelta(hours=73))


def test_due_deliveries_of_a_deleted_webhook_are_given_up(client, admin, widget, receiver, at):
    hook = subscribe(client, admin)
    new_lead(client, widget)
    receiver.default = "down"
    deliver(stream_records())
    client.http.delete(f"/v1/webhooks/{hook}", headers=bearer(admin))
    at(NOON + timedelta(hours=1))
    assert retry()["given_up"] == 1
    at(NOON + timedelta(hours=2))
    assert "given_up" not in retry()  # off the due index
    assert len(receiver.calls) == 1


# --- review fixes: redelivery, the trigger's bounds, the run's isolation, the disable's race, replays ----------

def redeliver(client, admin, webhook_id, event_id) -> dict:
    answer = client.http.post(f"/v1/webhooks/{webhook_id}/deliveries/{event_id}/redeliver", body=b"",
                              headers=bearer(admin, **{"Content-Type": "application/json"}))
    assert answer.status_code == 200, answer.body
    return body_of(answer)


def stored_delivery(webhook_id: str, event_id: str):
    from chalicelib.store import webhooks

    with invocation.invocation():
        return webhooks.get_delivery(webhook_id, event_id)


def test_a_redelivery_while_the_receiver_is_down_keeps_the_delivery_in_the_retry_schedule(
        client, admin, widget, receiver, at):
    hook = subscribe(client, admin)
    new_lead(client, widget)
    receiver.default = "down"
    deliver(stream_records())
    [logged] = deliveries(client, admin, hook)
    at(NOON + timedelta(seconds=30))
    again = redeliver(client, admin, hook, logged["event_id"])
    assert again["status"] == "failed" and again["attempts"] == 2
    assert again["next_attempt_at"] is not None  # still retried: the redelivery did not end the schedule
    receiver.default = "ok"
    at(NOON + timedelta(hours=1))
    retry()
    [final] = deliveries(client, admin, hook)
    assert final["status"] == "delivered" and final["next_attempt_at"] is None


def test_a_failed_redelivery_of_an_acknowledged_event_leaves_it_acknowledged(
        client, admin, widget, receiver, at, monkeypatch):
    from types import SimpleNamespace

    from chalicelib.services.rights import erasure
    from chalicelib.store import privacy

    hook = subscribe(client, admin, types=("lead.created", "lead.erased"))
    new_lead(client, widget)
    deliver(stream_records())
    [logged] = deliveries(client, admin, hook)
    assert logged["status"] == "delivered"
    receiver.default = "down"
    at(NOON + timedelta(minutes=5))
    redeliver(client, admin, hook, logged["event_id"])
    stored = stored_delivery(hook, logged["event_id"])
    assert stored.status == "failed" and stored.delivered_at == NOON  # the first 2xx never goes back
    monkeypatch.setattr(privacy, "erased_events_of", lambda request: [logged["event_id"]])
    request = SimpleNamespace(type="erasure", tenant_id=stored.tenant_id, completed_at=NOON)
    with invocation.invocation():
        [proof] = erasure.propagation(request)
    assert (proof["acknowledged"], proof["status"]) == (1, "acknowledged")


def test_a_redelivery_does_not_send_while_another_attempt_holds_the_delivery(client, admin, widget, receiver, at):
    from chalicelib.store import webhooks

    hook = subscribe(client, admin)
    new_lead(client, widget)
    receiver.default = "500"
    deliver(stream_records())
    [logged] = deliveries(client, admin, hook)
    at(NOON + timedelta(minutes=2))
    with invocation.invocation():  # the retry job takes it for its attempt
        assert webhooks.claim(stored_delivery(hook, logged["event_id"]), NOON + timedelta(minutes=4))  # = ours
    calls = len(receiver.calls)
    answer = redeliver(client, admin, hook, logged["event_id"])
    assert len(receiver.calls) == calls and answer["attempts"] == 1
    at(NOON + timedelta(minutes=5))  # the lease has run out (its taker died): a redelivery sends again
    redeliver(client, admin, hook, logged["event_id"])
    assert len(receiver.calls) == calls + 1


def test_the_stream_trigger_gives_up_on_a_record_after_bounded_retries_and_bisects_failing_batches():
    from deploy.stages import stage
    from deploy.template import merge_template

    resources = merge_template(stage("prod"))["Resources"]
    [events] = [resource["Properties"]["Events"] for resource in resources.values()
                if "Events" in resource.get("Properties", {})]
    [source] = [event["Properties"] for event in events.values()]
    assert 0 < source["MaximumRetryAttempts"] <= 100
    assert 60 <= source["MaximumRecordAgeInSeconds"] <= 24 * 3600
    assert source["BisectBatchOnFunctionError"] is True
    assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_a_failing_record_without_a_sequence_number_is_skipped_not_reported_empty(
        client, admin, widget, receiver, at, monkeypatch):
    from chalicelib.store import webhooks

    subscribe(client, admin)
    new_lead(client, widget)

    def failing(subscription, **kwargs):
        raise RuntimeError("throttled")

    monkeypatch.setattr(webhooks, "open_delivery", failing)
    [record] = [r for r in stream_records() if r["dynamodb"]["NewImage"]["type"]["S"] == "lead.created"]
    del record["dynamodb"]["SequenceNumber"]
    assert deliver([record]) == {"batchItemFailures": []}  # an empty identifier would fail the whole batch


def test_a_subscription_is_not_sent_events_written_before_it_was_created(client, admin, widget, receiver, at):
    new_lead(client, widget)
    at(NOON + timedelta(hours=1))
    hook = subscribe(client, admin)
    deliver(stream_records())  # a replay (a late trigger, the poller at TRIM_HORIZON)
    assert receiver.calls == [] and deliveries(client, admin, hook) == []


def test_one_delivery_that_raises_does_not_end_the_run_for_the_others(client, admin, widget, receiver, at,
                                                                      monkeypatch, caplog):
    broken = subscribe(client, admin, url="http://127.0.0.1:9/broken")
    fine = subscribe(client, admin, url="http://127.0.0.1:9/fine")
    new_lead(client, widget)
    receiver.default = "500"
    deliver(stream_records())
    receiver.default = "ok"
    real = retries.try_delivery

    def raising(run, subscription, delivery):
        if subscription.webhook_id == broken:
            raise RuntimeError("http://127.0.0.1:9/broken p0@example.org")
        return real(run, subscription, delivery)

    monkeypatch.setattr(retries, "try_delivery", raising)
    at(NOON + timedelta(minutes=5))
    summary = retry()
    assert summary["errors"] == 1 and summary["delivered"] == 1
    assert [item["status"] for item in deliveries(client, admin, fine)] == ["delivered"]
    assert "127.0.0.1" not in caplog.text and "example.org" not in caplog.text


def test_a_run_attempts_one_webhook_a_bounded_number_of_times_and_moves_the_rest_later(
        client, admin, widget, receiver, at, monkeypatch):
    hook = subscribe(client, admin)
    for number in range(3):
        new_lead(client, widget, number)
    receiver.default = "500"  # failing, but answering: not a stalled receiver
    deliver(stream_records())
    monkeypatch.setattr(retries, "MAX_ATTEMPTS_PER_WEBHOOK", 2)
    calls = len(receiver.calls)
    at(NOON + timedelta(minutes=30))
    summary = retry()
    assert len(receiver.calls) - calls == 2 and summary["deferred"] == 1
    assert all(item["next_attempt_at"] for item in deliveries(client, admin, hook))


def _receiver_that_also(receiver, monkeypatch, side_effect):
    def answering(*args, **kwargs):
        side_effect()
        return receiver(*args, **kwargs)

    monkeypatch.setattr("chalicelib.services.webhooks.deliveries.deliver", answering)


def test_a_success_in_another_invocation_prevents_the_disable(client, admin, widget, tenant, receiver, at,
                                                              monkeypatch):
    from chalicelib.store import webhooks

    hook = subscribe(client, admin)
    new_lead(client, widget)
    receiver.default = "500"
    deliver(stream_records())
    # While this run attempts (holding its copy, failing since noon), another invocation gets a 2xx through.
    _receiver_that_also(receiver, monkeypatch, lambda: webhooks.note_success(webhooks.get(tenant, hook)))
    at(NOON + timedelta(hours=73))
    assert "disabled" not in retry()
    assert webhook(client, admin, hook)["status"] == "active"


def test_a_success_clears_failing_since_set_after_this_invocation_read_the_subscription(
        client, admin, widget, tenant, receiver, at, monkeypatch):
    from chalicelib.store import webhooks

    hook = subscribe(client, admin)
    new_lead(client, widget)
    # This batch read the subscription (not failing); meanwhile another invocation's attempt failed.
    _receiver_that_also(receiver, monkeypatch, lambda: webhooks.note_failure(webhooks.get(tenant, hook), NOON))
    deliver(stream_records())
    assert receiver.calls and webhook(client, admin, hook)["failing_since"] is None


# --- the local stream poller -----------------------------------------------------------------

class FakeStream:
    """DynamoDB Streams of one shard holding ``records`` (iterators are positions)."""

    def __init__(self, count: int) -> None:
        self.records = [{"eventName": "INSERT", "dynamodb": {"SequenceNumber": f"{n:05d}"}} for n in range(count)]

    def describe_stream(self, **kwargs):
        return {"StreamDescription": {"Shards": [{"ShardId": "s1"}]}}

    def get_shard_iterator(self, ShardIteratorType, SequenceNumber=None, **kwargs):
        after = 0 if ShardIteratorType == "TRIM_HORIZON" else int(SequenceNumber) + 1
        return {"ShardIterator": str(after)}

    def get_records(self, ShardIterator, Limit):
        start = int(ShardIterator)
        batch = self.records[start:start + Limit]
        return {"Records": batch, "NextShardIterator": str(start + len(batch))}


def test_the_poller_hands_the_same_records_again_after_the_handler_raised():
    from devtools.stream_poller import StreamPoller

    handed: list[list[str]] = []

    def handle(records):
        handed.append([record["dynamodb"]["SequenceNumber"] for record in records])
        if len(handed) == 1:
            raise RuntimeError("the function failed")
        return {"batchItemFailures": []}

    poller = StreamPoller("events", handle, client=FakeStream(3), stream_arn="arn:stream")
    with pytest.raises(RuntimeError):
        poller.poll_once()
    poller.poll_once()
    assert handed == [["00000", "00001", "00002"], ["00000", "00001", "00002"]]
    poller.poll_once()  # and moves on once it returned
    assert len(handed) == 2
