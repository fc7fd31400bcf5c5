"""Identity trust on AWS's own engine: the takeover replayed, and budgets as real conditional transactions."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest

from chalicelib import clock, invocation
from chalicelib.errors import RateLimited
from chalicelib.jobs import invoke_job
from chalicelib.runtime import LocalContext
from chalicelib.services.access import budgets
from chalicelib.services.access.auth import authenticate
from chalicelib.services.tenants.tenancy import require_tenant
from chalicelib.store.models.claims import RateCounterRecord
from tests.support.http import bearer, body_of
from tests.support.leads import lead_body, post_lead
from tests.support.outbox import last_code, messages
from tests.support.people import EMAIL_NORMALISED, PHONE, PHONE_E164

pytestmark = pytest.mark.integration

ATTACKER = "mallory@example.net"
CONTACT = {"purposes": ["contact"], "policy_version": "2026-11"}


def half_past_this_hour() -> datetime:
    return clock.wall_now().replace(minute=30, second=0, microsecond=0)


@pytest.fixture(autouse=True)
def mid_hour(monkeypatch):
    """Budgets count per clock hour: a fixed time keeps a test from straddling two windows.

    Half past the real hour, never a date in the calendar: a counter expires (TTL) a day after its
    window, and DynamoDB Local deletes expired items every ten seconds or so, so a counter of a window
    more than a day back would vanish mid-test and its budget start again (11 of 20 passing 7).
    """
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(half_past_this_hour()))


def send(client, key, path, body):
    return client.http.post(path, body=json.dumps(body), headers=bearer(key, **{"Content-Type": "application/json"}))


def test_the_takeover_sequence_leaves_the_victim_untouched(client, issue_key):
    widget, admin = issue_key("widget"), issue_key("admin")
    victim = body_of(post_lead(client, widget, lead_body(consent=CONTACT)))["lead_id"]
    attack = body_of(post_lead(client, widget, lead_body(phone=PHONE, email=ATTACKER, name="M", consent=CONTACT)))
    assert attack == {"lead_id": victim, "status": "merged", "pending_identifiers": ["email"]}
    access = body_of(send(client, widget, "/v1/privacy-requests", {"type": "access", "email": ATTACKER}))
    send(client, widget, f"/v1/privacy-requests/{access['request_id']}/verify", {"code": last_code(ATTACKER)})
    erasure = body_of(send(client, widget, "/v1/privacy-requests", {"type": "erasure", "email": ATTACKER}))
    send(client, widget, f"/v1/privacy-requests/{erasure['request_id']}/verify", {"code": last_code(ATTACKER)})
    assert invoke_job("privacy_worker", LocalContext("privacy_worker", timeout_s=60))["completed"] == 2
    lead = body_of(client.http.get(f"/v1/leads/{victim}", headers=bearer(admin)))
    assert (lead["phone"], lead["email"], lead["name"]) == (PHONE_E164, EMAIL_NORMALISED, "Priya Sharma")
    receipt = body_of(client.http.get(f"/v1/privacy-requests/{erasure['request_id']}", headers=bearer(admin)))
    assert receipt["receipt"].get("leads", 0) == 0
    to_attacker = " ".join(m["text"] for m in messages() if m["to"] == ATTACKER)
    assert "Priya" not in to_attacker and PHONE_E164 not in to_attacker


def test_budgets_hold_exactly_under_concurrency(tenant, issue_key, operator):
    """Twenty concurrent requests against a budget of seven: seven pass, the counter says seven."""
    widget = issue_key("widget")
    operator("admin_set_budgets", {"tenant_id": tenant, "budgets": {"privacy_requests_per_key_hour": 7}})

    def one(_: int) -> bool:
        with invocation.invocation():
            caller = authenticate(f"Bearer {widget['api_key']}")
            spender = budgets.Spender(require_tenant(caller.tenant_id), caller.key_id, caller.role, None)
            try:
                budgets.charge(spender, "privacy_requests")
                return True
            except RateLimited:
                return False

    with ThreadPoolExecutor(max_workers=10) as pool:
        passed = list(pool.map(one, range(20)))
    counters = {c.pk: int(c.count) for c in RateCounterRecord.scan() if "#privacy_requests_per_key_hour#" in c.pk}
    assert passed.count(True) == 7
    assert list(counters.values()) == [7]
    # Kept a day past the window, so the engine's TTL sweep cannot have reset a budget while the test ran.
    hour_ends = clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    kept_until = {c.expires_at for c in RateCounterRecord.scan() if "#privacy_requests_" in c.pk}
    assert kept_until == {hour_ends + timedelta(days=1)}
    assert hour_ends + timedelta(days=1) > clock.wall_now()
    tenant_wide = [int(c.count) for c in RateCounterRecord.scan() if "#privacy_requests_per_tenant_hour#" in c.pk]
    assert tenant_wide == [7]  # a refused request moved no counter at all


def test_over_budget_nothing_is_stored_or_sent(client, tenant, issue_key, operator):
    widget = issue_key("widget")
    operator("admin_set_budgets", {"tenant_id": tenant, "budgets": {"sms_per_tenant_day": 2}})
    answers = [send(client, widget, "/v1/privacy-requests", {"type": "erasure", "phone": f"+91 98000 200{n:02d}"})
               for n in range(4)]
    assert [a.status_code for a in answers] == [202, 202, 429, 429]
    assert len([m for m in messages() if str(m.get("to", "")).startswith("+91")]) == 2
    assert answers[2].headers.get("Retry-After")
