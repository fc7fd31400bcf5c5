"""Policy notices on AWS's own engine: two dispatchers at once, each person told once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

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
        "recipients": 30, "sent": 30, "failed": 0, "pending": 0}
