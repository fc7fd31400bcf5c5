"""Issue 14, point 1: policy notices exactly once, and a status that says what was really sent.

Replayed with 30% of writes applied and their answers lost, and with a dispatcher SIGKILLed mid-run
and run again. A recipient counts as told once per distinct message: two deliveries carrying the same
message id (the notice id passed to the mail backend as its dedup key) are one message to a receiver.
"""

from __future__ import annotations

import email
import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib import clock
from chalicelib.config import get_settings
from chalicelib.jobs import invoke_job
from chalicelib.runtime import LocalContext
from tests.support.fault_proxy import AMBIGUOUS, LATENCY, WRITE_OPERATIONS, Fault, job_code, run_and_kill
from tests.support.leads import lead_body, post_lead

pytestmark = [pytest.mark.integration, pytest.mark.chaos, pytest.mark.usefixtures("short_sdk_sleeps")]

SUBJECT = ": our privacy policy is changing"
CONTACT_ONLY = {"purposes": ["contact"], "policy_version": "2026-11"}
DISPATCH_RUNS = 8
# Far past any lease a crashed run's claims may hold, far short of anything expiring.
NEXT_TICKS = timedelta(hours=6)


def recipients(api: Any, widget: dict, count: int) -> list[str]:
    """``count`` leads with an e-mail, submitted a few at a time (injection is off)."""
    addresses = [f"notice{n}@example.org" for n in range(count)]

    def submit(n: int) -> int:
        return post_lead(api, widget, lead_body(name=f"Person {n}", phone=f"+91 98000 7{n:04d}", email=addresses[n],
                                                consent=CONTACT_ONLY)).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert set(pool.map(submit, range(count))) == {201}
    return addresses


def publish(operator: Any, tenant: str) -> dict:
    policy = operator("admin_publish_policy", {"scope": "tenant", "tenant_id": tenant, "version": "v14",
                                               "url": "https://acme.example/p", "summary": "New terms.",
                                               "effective_at": "2027-01-01T00:00:00Z"})
    assert "policy_id" in policy, policy
    return policy


def notices(outbox: Path | None = None) -> tuple[Counter[str], Counter[str]]:
    """Per recipient: distinct notices (by message id when the message has one) and raw deliveries."""
    outbox = outbox or Path(get_settings().outbox_dir)
    distinct: dict[str, set[str]] = {}
    deliveries: Counter[str] = Counter()
    for path in sorted(outbox.glob("*.eml")) if outbox.exists() else []:
        parsed = email.message_from_bytes(path.read_bytes())
        if not str(parsed["Subject"]).endswith(SUBJECT):  # "<tenant's display name>: our privacy policy ..."
            continue
        to = str(parsed["To"])
        deliveries[to] += 1
        message_id = parsed["X-LeadVault-Reference"] or parsed["Message-ID"] or path.name
        distinct.setdefault(to, set()).add(str(message_id))
    return Counter({to: len(ids) for to, ids in distinct.items()}), deliveries


def dispatch_until_settled(runs: int = DISPATCH_RUNS) -> list[dict]:
    """Run the scheduled dispatcher as its ticks would, until a run finishes (or ``runs`` ticks pass)."""
    results = []
    for _ in range(runs):
        result = invoke_job("dispatch_notifications", LocalContext("dispatch_notifications", timeout_s=300))
        results.append(result)
        if "error" not in result and not result.get("unfinished"):
            break
    return results


def figures(addresses: list[str], status: dict) -> dict[str, Any]:
    told, deliveries = notices()
    really_sent = sum(told.values())
    return {
        "recipients": len(addresses),
        "lost": sum(1 for address in addresses if told[address] == 0),
        "doubled": sum(1 for address in addresses if told[address] > 1),
        "deliveries": sum(deliveries.values()),
        "really_sent": really_sent,
        "status": status,
    }


def settled(status: dict, recipients_count: int, really_sent: int) -> dict[str, Any]:
    """What the status must say: what was sent, and every recipient accounted for."""
    expected = {"recipients": recipients_count, "sent": really_sent}
    actual = {"recipients": status.get("recipients"), "sent": status.get("sent")}
    if "skipped" in status:  # sent + failed + skipped = recipients
        actual["accounted"] = status["sent"] + status["failed"] + status["skipped"]
        expected["accounted"] = recipients_count
    else:
        actual["pending"], expected["pending"] = status.get("pending"), 0
    return {"actual": actual, "expected": expected}


def test_notices_under_lost_write_answers_reach_everyone_once(
    api, widget, operator, tenant, proxy, chaos_seed, chaos_scale, report,
):
    addresses = recipients(api, widget, chaos_scale["recipients"])
    policy = publish(operator, tenant)
    assert policy["recipients"] == len(addresses)
    with proxy.faults(Fault(AMBIGUOUS, rate=0.3, operations=WRITE_OPERATIONS)):
        runs = dispatch_until_settled()
    status = operator("admin_policy_status", {"policy_id": policy["policy_id"]})
    seen = figures(addresses, status)
    report(**seen, runs=len(runs), last_run=runs[-1])
    check = settled(status, len(addresses), seen["really_sent"])
    assert (seen["lost"], seen["doubled"], check["actual"]) == (0, 0, check["expected"]), seen


def test_a_dispatcher_killed_mid_run_is_finished_by_the_next_run(
    api, widget, operator, tenant, proxy, chaos_seed, chaos_scale, report, monkeypatch,
):
    addresses = recipients(api, widget, chaos_scale["killed_recipients"])
    policy = publish(operator, tenant)
    outbox = Path(get_settings().outbox_dir)
    before = len(list(outbox.glob("*.eml"))) if outbox.exists() else 0
    kill_after = random.Random(chaos_seed).randrange(1, len(addresses) - 1)

    def enough_sent() -> bool:
        return outbox.exists() and len(list(outbox.glob("*.eml"))) - before >= kill_after

    # Each DynamoDB call a little slow, so the kill lands mid-page, as a Lambda deadline or crash would.
    with proxy.faults(Fault(LATENCY, delay_s=0.01)):
        run = run_and_kill(job_code("dispatch_notifications"), enough_sent)
    assert run.killed, f"the dispatcher finished before {kill_after} notices: {run.stdout[-500:]}{run.stderr[-500:]}"
    sent_when_killed = sum(notices()[1].values())
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(clock.wall_now() + NEXT_TICKS))
    runs = dispatch_until_settled()
    status = operator("admin_policy_status", {"policy_id": policy["policy_id"]})
    seen = figures(addresses, status)
    report(**seen, killed_after=sent_when_killed, runs=len(runs), last_run=runs[-1])
    check = settled(status, len(addresses), seen["really_sent"])
    assert (seen["lost"], seen["doubled"], check["actual"]) == (0, 0, check["expected"]), seen
