"""Policy versions and change notices: everyone told once per channel, by the right channel, provably."""

from __future__ import annotations

import itertools
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from chalicelib.jobs import invoke_job
from chalicelib.runtime import LocalContext
from chalicelib.services.policies.dispatch import RateLimiter
from tests.support.http import assert_error, bearer, body_of
from tests.support.leads import lead_body, post_lead
from tests.support.outbox import messages
from tests.support.people import EMAIL_NORMALISED

POLICY = {"version": "2026-12", "url": "https://acme.example/privacy", "summary": "We now keep calls 90 days.",
          "effective_at": "2026-12-01T00:00:00Z"}


def publish(operator, tenant=None, **overrides):
    payload = {**POLICY, **overrides}
    payload.update({"scope": "tenant", "tenant_id": tenant} if tenant else {"scope": "platform"})
    answer = operator("admin_publish_policy", payload)
    assert "policy_id" in answer, answer
    return answer


def dispatch():
    return invoke_job("dispatch_notifications", LocalContext("dispatch_notifications", timeout_s=60))


def policy_messages():
    return [m for m in messages() if "policy is changing" in m["subject"].lower()]


def later(monkeypatch, delta):
    """Move the service's clock on (from now, or from where it was moved before)."""
    from chalicelib import clock

    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(clock.now() + delta))


def status(operator, policy_id):
    return operator("admin_policy_status", {"policy_id": policy_id})


@pytest.fixture(autouse=True)
def fast_sends(monkeypatch):
    monkeypatch.setenv("LEADVAULT_SEND_RATE", "0")


@pytest.fixture
def people(client, widget):
    """A lead with e-mail, a phone-only lead, and one who opted out of marketing."""
    with_email = body_of(post_lead(client, widget, lead_body()))["lead_id"]
    phone_only = body_of(post_lead(client, widget, lead_body(phone="+91 91234 56780", email=None)))["lead_id"]
    opted_out = body_of(post_lead(client, widget, lead_body(phone="+91 99000 12345", email="meera@example.org",
                                                            consent={"purposes": ["contact"],
                                                                     "policy_version": "1"})))["lead_id"]
    client.http.post("/v1/consents", body=json.dumps({"email": "meera@example.org", "grants": {
        "marketing_email": False, "marketing_sms": False, "marketing_calls": False}, "policy_version": "1"}),
        headers=bearer(widget, **{"Content-Type": "application/json"}))
    return with_email, phone_only, opted_out


def test_tenant_notice_reaches_everyone_once_by_their_channel(client, operator, tenant, admin, people):
    published = publish(operator, tenant)
    assert published["recipients"] == 3
    assert dispatch()["sent"] == 3
    sent = [m for m in messages() if "privacy policy is changing" in m["subject"].lower()]
    assert sorted(m["to"] for m in sent) == sorted([EMAIL_NORMALISED, "+919123456780", "meera@example.org"])
    assert all("token=" in m["text"] and POLICY["url"] in m["text"] for m in sent)
    assert dispatch().get("sent", 0) == 0  # done: never twice
    assert status(operator, published["policy_id"]) == {"recipients": 3, "sent": 3, "failed": 0, "skipped": 0,
                                                        "pending": 0}
    timeline = body_of(client.http.get(f"/v1/leads/{people[0]}/timeline", headers=bearer(admin)))["items"]
    assert any(item["type"] == "notice" and item["policy_version"] == "2026-12" for item in timeline)


def test_erased_people_are_never_notified(client, operator, tenant, admin, people):
    from tests.unit.test_privacy_requests import work

    client.http.post("/v1/privacy-requests", body=json.dumps({"type": "erasure", "email": "meera@example.org",
                                                              "verified_by_admin": True}),
                     headers=bearer(admin, **{"Content-Type": "application/json"}))
    work()
    published = publish(operator, tenant)
    dispatch()
    assert not [m for m in messages() if m["to"] == "meera@example.org" and "policy" in m["subject"].lower()]
    assert status(operator, published["policy_id"])["recipients"] == 2


@pytest.fixture
def atomic_moto(monkeypatch):
    """One DynamoDB request at a time, as DynamoDB applies each conditional write atomically: moto checks a
    condition and writes without a lock, so two threads can both pass it (real DynamoDB: integration tests)."""
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.RLock()
    real_call = DynamoHandler.call_action

    def call_alone(self):
        with lock:
            return real_call(self)

    monkeypatch.setattr(DynamoHandler, "call_action", call_alone)


def test_two_dispatchers_at_once_send_each_notice_once(operator, tenant, people, atomic_moto):
    publish(operator, tenant)
    barrier = threading.Barrier(2)

    def run_one(_):
        barrier.wait()
        return dispatch()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(run_one, range(2)))
    assert sum(r.get("sent", 0) for r in results) == 3
    assert len([m for m in messages() if "policy is changing" in m["subject"]]) == 3


def test_a_claim_whose_dispatcher_died_is_resumed_after_its_lease(operator, tenant, people, monkeypatch):
    from chalicelib.services.policies import dispatch as dispatcher
    calls = {"n": 0}
    real_send = dispatcher.send

    def crash_on_second(message):
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("the Lambda died mid-send")
        return real_send(message)

    monkeypatch.setattr(dispatcher, "send", crash_on_second)
    published = publish(operator, tenant)
    with pytest.raises(SystemExit):
        dispatch()
    monkeypatch.setattr(dispatcher, "send", real_send)
    again = dispatch()  # the dead run's claim is still leased: nobody sends it yet, the version is not done
    assert again["busy"] == 1 and again["unfinished"] == 1
    assert len(policy_messages()) == 2
    assert status(operator, published["policy_id"])["pending"] == 1
    later(monkeypatch, dispatcher.NOTICE_LEASE + timedelta(seconds=1))
    assert dispatch()["sent"] == 1
    sent = [m["to"] for m in policy_messages()]
    assert len(sent) == len(set(sent)) == 3  # everyone told, nobody twice
    assert status(operator, published["policy_id"]) == {"recipients": 3, "sent": 3, "failed": 0, "skipped": 0,
                                                        "pending": 0}


def test_permanent_failures_are_recorded_and_counted(operator, tenant, people, monkeypatch):
    from chalicelib.notify import DeliveryFailed
    from chalicelib.services.policies import dispatch as dispatcher
    def refuse(message):
        raise DeliveryFailed(permanent=True)

    monkeypatch.setattr(dispatcher, "send", refuse)
    published = publish(operator, tenant)
    assert dispatch()["failed"] == 3
    assert status(operator, published["policy_id"]) == {"recipients": 3, "sent": 0, "failed": 3, "skipped": 0,
                                                        "pending": 0}


def test_transient_failures_are_retried_on_a_later_run(operator, tenant, people, monkeypatch):
    from chalicelib.notify import DeliveryFailed
    from chalicelib.services.policies import dispatch as dispatcher
    monkeypatch.setattr(dispatcher.time, "sleep", lambda _s: None)
    real_send = dispatcher.send
    monkeypatch.setattr(dispatcher, "send", lambda message: (_ for _ in ()).throw(DeliveryFailed(permanent=False)))
    published = publish(operator, tenant)
    first = dispatch()
    assert first.get("sent", 0) == 0 and first["retry"] >= 1 and first["unfinished"] == 1
    assert status(operator, published["policy_id"])["pending"] == 3
    monkeypatch.setattr(dispatcher, "send", real_send)  # the backend recovers
    assert dispatch()["sent"] == 3
    assert status(operator, published["policy_id"]) == {"recipients": 3, "sent": 3, "failed": 0, "skipped": 0,
                                                        "pending": 0}


def test_the_send_rate_is_respected():
    now = {"t": 100.0}
    sends: list[float] = []

    def sleep(seconds: float) -> None:
        now["t"] += seconds

    limiter = RateLimiter(rate=5, sleep=sleep, monotonic=lambda: now["t"])
    for _ in range(11):
        limiter.wait()
        sends.append(now["t"])
    gaps = [b - a for a, b in itertools.pairwise(sends)]
    assert min(gaps) == pytest.approx(0.2) and sends[-1] - sends[0] == pytest.approx(2.0)
    unlimited: list[float] = []
    free = RateLimiter(rate=0, sleep=unlimited.append)
    for _ in range(6):
        free.wait()
    assert unlimited == []


def test_platform_notice_reaches_users_in_app_and_by_email(client, operator, tenant, issue_key):
    agent = issue_key("agent", agent_id="asha", email="asha@acme.example")
    issue_key("admin")  # no e-mail: not in the audience
    published = publish(operator)
    assert published["recipients"] == 1
    assert dispatch()["sent"] == 1
    assert [m["to"] for m in messages() if "policy" in m["subject"].lower()] == ["asha@acme.example"]
    inbox = body_of(client.http.get("/v1/notifications", headers=bearer(agent)))["items"]
    assert [item["policy_version"] for item in inbox] == ["2026-12"] and inbox[0]["accepted_at"] is None
    dispatch()
    assert len(body_of(client.http.get("/v1/notifications", headers=bearer(agent)))["items"]) == 1


def test_current_policy_and_acceptance(client, operator, tenant, issue_key, monkeypatch):
    agent = issue_key("agent", agent_id="asha")
    assert_error(client.http.get("/v1/policies/current", headers=bearer(agent)), 404, "not_found")
    publish(operator, effective_at="2026-01-01T00:00:00Z", version="p1")
    publish(operator, tenant, effective_at="2026-02-01T00:00:00Z", version="t1")
    publish(operator, tenant, effective_at="2099-01-01T00:00:00Z", version="t2")
    current = body_of(client.http.get("/v1/policies/current", headers=bearer(agent)))
    assert current["version"] == "t1" and current["url"] == POLICY["url"]
    accepted = client.http.post("/v1/policies/t1/accept", headers=bearer(agent, **{"Content-Type": "application/json"}),
                                body=b"{}")
    assert accepted.status_code == 201 and body_of(accepted)["version"] == "t1"
    inbox = body_of(client.http.get("/v1/notifications", headers=bearer(agent)))["items"]
    assert inbox[0]["accepted_at"] == body_of(accepted)["accepted_at"]
    assert_error(client.http.post("/v1/policies/nope/accept", headers=bearer(agent), body=b"{}"), 404, "not_found")
    assert_error(client.http.post("/v1/policies/t1/accept", headers=bearer(issue_key("widget")), body=b"{}"),
                 403, "forbidden")


@pytest.mark.parametrize("change", [{"url": "ftp://x"}, {"version": "has space"}, {"effective_at": "soon"},
                                    {"scope": "galaxy"}, {"summary": ""}])
def test_bad_publications_are_refused(operator, tenant, change):
    payload = {**POLICY, "scope": "platform", **change}
    assert operator("admin_publish_policy", payload)["error"]["code"] == "validation_error"


def test_a_version_is_published_once(operator, tenant):
    first = publish(operator, tenant)
    # The operator's retry of the same publication (a lost answer, a timeout) gets the first answer...
    assert publish(operator, tenant) == first
    # ...and another text for a published version is refused.
    again = operator("admin_publish_policy", {**POLICY, "scope": "tenant", "tenant_id": tenant, "summary": "Other."})
    assert again["error"]["code"] == "version_exists"


class Collecting:
    """An aiosmtpd handler that keeps messages and refuses one address, as a real server would."""

    def __init__(self, refuse: str) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.refuse = refuse

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"


def test_smtp_backend_against_a_real_smtp_server(operator, tenant, people, monkeypatch):
    from aiosmtpd.controller import Controller

    from devtools.dynamodb_local import free_port

    handler = Collecting(refuse="meera@example.org")
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        monkeypatch.setenv("LEADVAULT_EMAIL_BACKEND", "smtp")
        monkeypatch.setenv("LEADVAULT_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("LEADVAULT_SMTP_PORT", str(port))
        published = publish(operator, tenant)
        result = dispatch()
    finally:
        controller.stop()
    assert [rcpt for rcpt, _ in handler.messages] == [[EMAIL_NORMALISED]]
    assert b"token=" in handler.messages[0][1]
    assert result["sent"] == 2 and result["failed"] == 1  # the phone-only lead went by SMS (outbox)
    assert status(operator, published["policy_id"]) == {"recipients": 3, "sent": 2, "failed": 1, "skipped": 0,
                                                        "pending": 0}


def test_ses_backend_in_a_dispatch(aws, operator, tenant, people, monkeypatch):
    import boto3
    from moto.backends import get_backend

    monkeypatch.setenv("LEADVAULT_EMAIL_BACKEND", "ses")
    monkeypatch.setenv("LEADVAULT_EMAIL_FROM", "privacy@acme.example")
    boto3.client("ses", region_name="us-east-1").verify_email_identity(EmailAddress="privacy@acme.example")
    publish(operator, tenant)
    backend = get_backend("ses")["123456789012"]["us-east-1"]
    before = len(backend.sent_messages)
    assert dispatch()["sent"] == 3
    sent = backend.sent_messages[before:]
    assert sorted(sorted(set(m.destinations)) for m in sent) == [["meera@example.org"], [EMAIL_NORMALISED]]


def test_republishing_a_version_is_refused_even_when_racing(operator, tenant):
    payload = {**POLICY, "scope": "tenant", "tenant_id": tenant}
    other = {**payload, "summary": "Another text for the same version."}
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda body: operator("admin_publish_policy", body), [payload, other]))
    # One of the two texts is published; the other is told the version exists or is being published.
    published = [answer for answer in answers if "policy_id" in answer]
    assert len(published) == 1, answers
    refused = next(answer for answer in answers if "policy_id" not in answer)
    assert refused["error"]["code"] in ("version_exists", "request_in_progress")


# --- the notice ledger: exactly once under lost answers, moving keys and erasure ---------------

def outbox_message_ids():
    """The Message-ID of every policy notice e-mail in the outbox, oldest first."""
    import email

    from chalicelib.config import get_settings

    parsed = [email.message_from_bytes(path.read_bytes())
              for path in sorted(Path(get_settings().outbox_dir).glob("*.eml"))]
    return [message["Message-ID"] for message in parsed if "policy" in message["Subject"].lower()]


@pytest.fixture
def lost_claim_answers(monkeypatch):
    """Each notice claim applies, then answers as the SDK's retry of it would: a refused condition."""
    from chalicelib.store.models.claims import NoticeClaimRecord
    from chalicelib.store.models.timeline import TimelineRecord

    retried = {"n": 0}
    for model in (TimelineRecord, NoticeClaimRecord):
        real_save = model.save

        def save_then_retry(self, *args, real_save=real_save, **kwargs):
            answer = real_save(self, *args, **kwargs)
            if getattr(self, "state", None) == "claimed" or getattr(self, "status", None) == "claimed":
                retried["n"] += 1
                return real_save(self, *args, **kwargs)  # refused: the first attempt applied
            return answer

        monkeypatch.setattr(model, "save", save_then_retry)
    return retried


def test_a_lost_answer_to_a_claim_still_sends_the_notice(operator, tenant, people, lost_claim_answers):
    published = publish(operator, tenant)
    assert dispatch()["sent"] == 3
    assert lost_claim_answers["n"] == 3
    sent = [m["to"] for m in policy_messages()]
    assert len(sent) == len(set(sent)) == 3
    assert status(operator, published["policy_id"]) == {"recipients": 3, "sent": 3, "failed": 0, "skipped": 0,
                                                        "pending": 0}


def test_a_lost_answer_to_a_users_claim_still_sends_the_notice(operator, tenant, issue_key, lost_claim_answers):
    issue_key("agent", agent_id="asha", email="asha@acme.example")
    published = publish(operator)
    assert dispatch()["sent"] == 1 and lost_claim_answers["n"] == 1
    assert [m["to"] for m in policy_messages()] == ["asha@acme.example"]
    assert status(operator, published["policy_id"])["sent"] == 1


@pytest.mark.parametrize("retry_sees", ["a refusal", "an error"])
def test_a_lost_answer_to_a_settlement_counts_once(operator, tenant, people, monkeypatch, retry_sees):
    """The settling transaction applied; its answer was lost. The retry is refused by the state it set (or the
    SDK gave up): read back, the record is ours, and the counter moved once."""
    from botocore.exceptions import ClientError

    from chalicelib.store import atomic

    real_commit = atomic.commit
    lost = {"n": 0}

    def commit_and_lose_the_answer(writes, counters=()):
        real_commit(writes, counters)
        lost["n"] += 1
        if retry_sees == "a refusal":
            real_commit(writes, counters)  # refused: the ledger record is no longer "claimed"
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "lost"}}, "TransactWriteItems")

    published = publish(operator, tenant)  # published before: its own transaction is not the one under test
    monkeypatch.setattr(atomic, "commit", commit_and_lose_the_answer)
    result = dispatch()
    assert result["sent"] == 3 and lost["n"] == 3
    assert len(policy_messages()) == 3
    assert status(operator, published["policy_id"]) == {"recipients": 3, "sent": 3, "failed": 0, "skipped": 0,
                                                        "pending": 0}


def test_each_notice_carries_its_recipients_notice_id_as_message_id(operator, tenant, people):
    from chalicelib.config import get_settings

    published = publish(operator, tenant)
    dispatch()
    ids = outbox_message_ids()
    assert len(ids) == len(set(ids)) == 2  # the two e-mails; the third went by SMS
    assert all(i.startswith(f"<{published['policy_id']}.led_") and i.endswith(">") for i in ids)
    sms = [json.loads(path.read_text()) for path in Path(get_settings().outbox_dir).glob("*.json")]
    assert [m["reference"] for m in sms if "policy" in m["subject"].lower()] == [
        f"{published['policy_id']}.{people[1]}"]


def test_a_recipient_erased_after_publication_settles_as_skipped(client, operator, tenant, admin, people):
    from tests.unit.test_privacy_requests import work

    published = publish(operator, tenant)
    client.http.post("/v1/privacy-requests", body=json.dumps({"type": "erasure", "email": "meera@example.org",
                                                              "verified_by_admin": True}),
                     headers=bearer(admin, **{"Content-Type": "application/json"}))
    work()
    assert dispatch()["unfinished"] == 0
    assert not [m for m in policy_messages() if m["to"] == "meera@example.org"]
    assert status(operator, published["policy_id"]) == {"recipients": 3, "sent": 2, "failed": 0, "skipped": 1,
                                                        "pending": 0}


def test_a_user_revoked_after_publication_settles_as_skipped(operator, tenant, issue_key):
    issue_key("agent", agent_id="asha", email="asha@acme.example")
    gone = issue_key("agent", agent_id="ravi", email="ravi@acme.example")
    published = publish(operator)
    assert operator("admin_revoke_api_key", {"tenant_id": tenant, "key_id": gone["key_id"]}) == {"revoked": True}
    dispatch()
    assert [m["to"] for m in policy_messages()] == ["asha@acme.example"]
    assert status(operator, published["policy_id"]) == {"recipients": 2, "sent": 1, "failed": 0, "skipped": 1,
                                                        "pending": 0}


def test_a_lead_moved_behind_the_walk_between_runs_is_still_told(client, widget, operator, tenant, monkeypatch):
    """A lead's list position is its expiry: a hold released or a retention shortened moves it earlier. One
    moved behind the position a run saved is met by the next pass, never missed."""
    import secrets

    from chalicelib import clock
    from chalicelib.services.leads import intake
    from chalicelib.services.policies import dispatch as dispatcher
    from chalicelib.store import leads
    from chalicelib.store.models.leads import LeadRecord

    monkeypatch.setattr(intake, "new_lead_id", lambda: "led_" + secrets.token_hex(9) + "00")  # all in shard 0
    ids = [body_of(post_lead(client, widget, lead_body(phone=f"+91 98000 700{n:02d}", email=f"m{n}@example.org")))
           ["lead_id"] for n in range(3)]
    published = publish(operator, tenant)
    monkeypatch.setattr(dispatcher, "PAGE", 1)
    checks = {"left": 2}  # the first page, and its one notice; then the run is out of time

    def short_run(context, safety_ms):
        def has_time():
            checks["left"] -= 1
            return checks["left"] >= 0
        return has_time

    monkeypatch.setattr(dispatcher, "time_left", short_run)
    assert dispatch()["sent"] == 1
    first = leads.get(ids[0])
    assert [m["to"] for m in policy_messages()] == ["m0@example.org"]  # the earliest expiry comes first
    last = leads.get(ids[2])
    earlier = clock.now() + timedelta(days=1)  # before the first lead's expiry: behind the saved position
    assert earlier < first.expires_at
    last.update(actions=[LeadRecord.expires_at.set(earlier), LeadRecord.list_sk.set(leads.list_key(ids[2], earlier))])
    monkeypatch.setattr(dispatcher, "time_left", lambda context, safety_ms: lambda: True)
    assert dispatch()["unfinished"] == 0
    sent = sorted(m["to"] for m in policy_messages())
    assert sent == ["m0@example.org", "m1@example.org", "m2@example.org"]
    assert status(operator, published["policy_id"]) == {"recipients": 3, "sent": 3, "failed": 0, "skipped": 0,
                                                        "pending": 0}


def test_under_lost_answers_everyone_is_told_once_and_the_status_is_exact(client, widget, operator, tenant,
                                                                          monkeypatch):
    """30% of the dispatcher's writes apply and lose their answer: a plain write is retried as the SDK would
    (its retry may be refused by the write it repeats); a transaction applies, then the SDK gives up on it."""
    import random

    from botocore.client import BaseClient
    from botocore.exceptions import ClientError

    for n in range(40):
        post_lead(client, widget, lead_body(phone=f"+91 98000 800{n:02d}", email=f"f{n}@example.org"))
    published = publish(operator, tenant)
    chance, lost = random.Random(14), {"writes": 0, "transactions": 0}
    real_call = BaseClient._make_api_call

    def lossy_call(self, operation, params):
        if self.meta.service_model.service_name != "dynamodb" or chance.random() >= 0.3:
            return real_call(self, operation, params)
        if operation == "TransactWriteItems":
            real_call(self, operation, params)
            lost["transactions"] += 1
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "lost"}}, operation)
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            real_call(self, operation, params)
            lost["writes"] += 1
        return real_call(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", lossy_call)
    for _run in range(3):
        if dispatch()["unfinished"] == 0:
            break
    monkeypatch.setattr(BaseClient, "_make_api_call", real_call)
    assert lost["writes"] > 10 and lost["transactions"] > 5
    sent = [m["to"] for m in policy_messages()]
    assert sorted(sent) == sorted(f"f{n}@example.org" for n in range(40))  # nobody lost, nobody twice
    assert status(operator, published["policy_id"]) == {"recipients": 40, "sent": 40, "failed": 0, "skipped": 0,
                                                        "pending": 0}
