"""Policy versions and change notices: everyone told once per channel, by the right channel, provably."""

from __future__ import annotations

import itertools
import json
import threading
from concurrent.futures import ThreadPoolExecutor

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
    assert status(operator, published["policy_id"]) == {"recipients": 3, "sent": 3, "failed": 0, "pending": 0}
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


def test_two_dispatchers_at_once_send_each_notice_once(operator, tenant, people):
    publish(operator, tenant)
    barrier = threading.Barrier(2)

    def run_one(_):
        barrier.wait()
        return dispatch()

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(run_one, range(2)))
    assert sum(r.get("sent", 0) for r in results) == 3
    assert len([m for m in messages() if "policy is changing" in m["subject"]]) == 3


def test_a_crash_after_recording_never_sends_twice(operator, tenant, people, monkeypatch):
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
    dispatch()
    sent = [m["to"] for m in messages() if "policy is changing" in m["subject"]]
    assert len(sent) == len(set(sent)) == 2  # the one being sent at the crash is lost, none doubled
    counts = status(operator, published["policy_id"])
    assert counts["sent"] + counts["failed"] + counts["pending"] == counts["recipients"]


def test_permanent_failures_are_recorded_and_counted(operator, tenant, people, monkeypatch):
    from chalicelib.notify import DeliveryFailed
    from chalicelib.services.policies import dispatch as dispatcher
    def refuse(message):
        raise DeliveryFailed(permanent=True)

    monkeypatch.setattr(dispatcher, "send", refuse)
    published = publish(operator, tenant)
    assert dispatch()["failed"] == 3
    assert status(operator, published["policy_id"]) == {"recipients": 3, "sent": 0, "failed": 3, "pending": 0}


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
    assert status(operator, published["policy_id"]) == {"recipients": 3, "sent": 3, "failed": 0, "pending": 0}


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
    publish(operator, tenant)
    again = operator("admin_publish_policy", {**POLICY, "scope": "tenant", "tenant_id": tenant})
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
    assert status(operator, published["policy_id"]) == {"recipients": 3, "sent": 2, "failed": 1, "pending": 0}


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
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda _: operator("admin_publish_policy", payload), range(2)))
    assert sorted("policy_id" in a for a in answers) == [False, True]
