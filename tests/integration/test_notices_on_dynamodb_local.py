"""Policy notices on AWS's own engine: two dispatchers at once, each person told once; a dispatcher
SIGKILLed between a send and its settlement resumed by a later run once its claim's lease ran out."""

from __future__ import annotations

import email
import os
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from chalicelib.jobs import invoke_job
from chalicelib.runtime import LocalContext
from tests.support.leads import lead_body, post_lead
from tests.support.outbox import messages

pytestmark = pytest.mark.integration


def test_concurrent_dispatchers_send_each_notice_once(client, widget, operator, tenant, monkeypatch):
    monkeypatch.setenv("LEADVAULT_SEND_RATE", "0")
    for n in range(30):
        post_lead(client, widget, lead_body(phone=f"+91 98000 600{n:02d}", email=f"p{n}@example.org"))
    policy = operator("admin_publish_policy", {"scope": "tenant", "tenant_id": tenant, "version": "v9",
                                               "url": "https://acme.example/p", "summary": "New terms.",
                                               "effective_at": "2027-01-01T00:00:00Z"})
    barrier = threading.Barrier(2)

    def run(_):
        barrier.wait()
        return invoke_job("dispatch_notifications", LocalContext("dispatch", timeout_s=60))

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(run, range(2)))
    assert sum(result.get("sent", 0) for result in results) == 30
    sent = [m["to"] for m in messages() if "policy" in m["subject"].lower()]
    assert len(sent) == len(set(sent)) == 30
    assert operator("admin_policy_status", {"policy_id": policy["policy_id"]}) == {
        "recipients": 30, "sent": 30, "failed": 0, "skipped": 0, "pending": 0}


# A dispatcher that dies (SIGKILL, as a Lambda at its deadline) once the backend took its second notice and
# before that notice is settled in the ledger.
KILLED_AFTER_SECOND_SEND = """
import os, signal
from chalicelib.jobs import invoke_job
from chalicelib.runtime import LocalContext
from chalicelib.services.policies import dispatch

real_send, sent = dispatch.send, []
def send_then_die(message):
    answer = real_send(message)
    sent.append(message.to)
    if len(sent) == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    return answer
dispatch.send = send_then_die
invoke_job("dispatch_notifications", LocalContext("dispatch", timeout_s=60))
"""


def _policy_mails() -> list[email.message.Message]:
    from chalicelib.config import get_settings

    mails = [email.message_from_bytes(path.read_bytes())
             for path in sorted(Path(get_settings().outbox_dir).glob("*.eml"))]
    return [mail for mail in mails if "policy" in mail["Subject"].lower()]


def test_a_dispatcher_killed_after_a_send_is_resumed_after_the_lease(client, widget, operator, tenant, monkeypatch):
    from chalicelib import clock
    from chalicelib.services.policies.dispatch import NOTICE_LEASE

    monkeypatch.setenv("LEADVAULT_SEND_RATE", "0")
    for n in range(4):
        post_lead(client, widget, lead_body(phone=f"+91 98000 610{n:02d}", email=f"k{n}@example.org"))
    policy = operator("admin_publish_policy", {"scope": "tenant", "tenant_id": tenant, "version": "v10",
                                               "url": "https://acme.example/p", "summary": "New terms.",
                                               "effective_at": "2027-01-01T00:00:00Z"})

    def status() -> dict:
        return operator("admin_policy_status", {"policy_id": policy["policy_id"]})

    child = subprocess.run([sys.executable, "-c", KILLED_AFTER_SECOND_SEND], env=dict(os.environ),
                           cwd=Path(__file__).resolve().parents[2], capture_output=True, timeout=120)
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    killed = _policy_mails()
    assert len(killed) == 2
    assert status() == {"recipients": 4, "sent": 1, "failed": 0, "skipped": 0, "pending": 3}

    # The dead run's claim is leased: the next run tells everyone else and leaves that one alone.
    rerun = invoke_job("dispatch_notifications", LocalContext("dispatch", timeout_s=60))
    assert rerun["sent"] == 2 and rerun["busy"] == 1 and rerun["unfinished"] == 1
    assert status()["pending"] == 1

    # Once the lease ran out, a later run resumes it: the one message that may go twice, recognisable by its id.
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(clock.now() + NOTICE_LEASE + timedelta(seconds=1)))
    resumed = invoke_job("dispatch_notifications", LocalContext("dispatch", timeout_s=60))
    assert resumed["sent"] == 1 and resumed["unfinished"] == 0
    mails = _policy_mails()
    assert sorted({mail["To"] for mail in mails}) == [f"k{n}@example.org" for n in range(4)]
    assert len(mails) == 5
    twice = [mail for mail in mails if mail["To"] == killed[1]["To"]]
    assert len(twice) == 2 and twice[0]["Message-ID"] == twice[1]["Message-ID"]
    assert len({mail["Message-ID"] for mail in mails}) == 4
    assert status() == {"recipients": 4, "sent": 4, "failed": 0, "skipped": 0, "pending": 0}
    assert invoke_job("dispatch_notifications", LocalContext("dispatch", timeout_s=60)).get("sent", 0) == 0
