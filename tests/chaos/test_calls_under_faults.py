"""Issue 14, point 4: call batches under throttling and partial batches - every call stored once, and every
stored call moves its lead's contact clock and expiry (so an actively worked lead is never purged early).

An agent's phone uploads a day of calls in batches and retries a batch (the same batch) on a 5xx. Faults:
10% (quick) or 20% (long) of all requests throttled, 60% of the PartiQL batches answered with per-statement
``ThrottlingError``s, a third of the other batches partly unprocessed.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib import clock
from tests.support.fault_proxy import PARTIAL, THROTTLE, Fault
from tests.support.field import at, call_event, post
from tests.support.http import bearer, body_of
from tests.support.leads import lead_body, post_lead

pytestmark = [pytest.mark.integration, pytest.mark.chaos, pytest.mark.usefixtures("short_sdk_sleeps")]

NINE = datetime(2026, 11, 20, 9, 0, 0, tzinfo=UTC)
BATCH = 10
ATTEMPTS = 8


def phone(n: int) -> str:
    return f"+91 98000 20{n:03d}"


def clocks(api: Any, admin: dict, lead_ids: list[str]) -> dict[str, tuple[str | None, str | None]]:
    """Each lead's ``last_contacted_at`` and ``expires_at`` as the API shows them."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        views = dict(zip(lead_ids, pool.map(
            lambda lead_id: body_of(api.http.get(f"/v1/leads/{lead_id}", headers=bearer(admin))), lead_ids),
            strict=True))
    return {lead_id: (view.get("last_contacted_at"), view.get("expires_at")) for lead_id, view in views.items()}


def stored_calls(raw: Any, tenant: str) -> list[str]:
    name = os.environ["LEADVAULT_TABLE_PREFIX"] + "calls"
    return [item["client_event_id"]["S"]
            for page in raw.get_paginator("scan").paginate(TableName=name, ConsistentRead=True)
            for item in page["Items"] if item.get("tenant_id", {}).get("S", tenant) == tenant]


def moved(before: str | None, after: str | None) -> bool:
    return before is not None and after is not None and after > before


def upload(client: Any, agent: dict, events: list[dict]) -> tuple[list[Any], dict | None]:
    """One batch as the phone sends it: retried as it is on a 5xx, with a short backoff."""
    responses = []
    for attempt in range(ATTEMPTS):
        response = post(client, agent, "/v1/calls", {"events": events})
        responses.append(response)
        if response.status_code < 500:
            return responses, body_of(response) if response.status_code == 200 else None
        time.sleep(0.05 * 2**attempt)
    return responses, None


def test_every_stored_call_is_stored_once_and_moves_its_leads_clock(
    api, issue_key, widget, tenant, raw, proxy, chaos_seed, chaos_scale, report, monkeypatch,
):
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(NINE))
    agent, admin = issue_key("agent", agent_id="asha"), issue_key("admin")
    count = chaos_scale["call_leads"]
    def submit(n: int) -> Any:
        return post_lead(api, widget, lead_body(name=f"Caller {n}", phone=phone(n), email=None,
                                                consent={"purposes": ["contact"], "policy_version": "2026-11"}))

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(submit, range(count)))
    assert {answer.status_code for answer in answers} == {201}
    lead_ids = [body_of(answer)["lead_id"] for answer in answers]
    assert post(api, agent, "/v1/shifts/start").status_code == 201
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(NINE + timedelta(hours=10)))
    before = clocks(api, admin, lead_ids)
    # Each lead's calls next to each other, as a day of work on one lead after another: most leads' calls
    # sit in one batch, so a batch whose clock updates are dropped leaves those leads' clocks behind.
    per_lead = -(-chaos_scale["call_events"] // count)
    events, latest = [], {}
    for n in range(chaos_scale["call_events"]):
        lead = min(n // per_lead, count - 1)
        events.append(call_event(f"c{n}", phone(lead), at(NINE, minutes=3 * n + 1)))
        latest[lead_ids[lead]] = at(NINE, minutes=3 * n + 1)

    statuses: dict[str, str] = {}
    five_xx, worst_run, unacknowledged = 0, 0, 0
    faults = (Fault(THROTTLE, rate=chaos_scale["call_throttle_percent"] / 100),
              Fault(PARTIAL, rate=0.6, operations={"BatchExecuteStatement"}),
              Fault(PARTIAL, rate=0.3, operations={"BatchWriteItem", "BatchGetItem"}))
    with proxy.faults(*faults):
        for start in range(0, len(events), BATCH):
            responses, answer = upload(api, agent, events[start:start + BATCH])
            failed = [r for r in responses if r.status_code >= 500]
            five_xx += len(failed)
            worst_run = max(worst_run, len(failed))
            if answer is None:
                unacknowledged += 1
                continue
            statuses.update({result["client_event_id"]: result["status"] for result in answer["results"]})

    stored = stored_calls(raw, tenant)
    after = clocks(api, admin, lead_ids)
    seen = {
        "calls": len(events), "leads": count, "batches": -(-len(events) // BATCH),
        "unacknowledged_batches": unacknowledged,
        "missing": len({e["client_event_id"] for e in events} - set(stored)),
        "doubled": len(stored) - len(set(stored)),
        "not_stored_answers": sum(1 for status in statuses.values() if status not in ("stored", "duplicate")),
        "clock_not_moved": sum(1 for lead_id, when in latest.items() if after[lead_id][0] != when),
        "expiry_not_moved": sum(1 for lead_id in latest if not moved(before[lead_id][1], after[lead_id][1])),
        "5xx": five_xx, "max_5xx_per_batch": worst_run,
    }
    report(**seen)
    assert (seen["unacknowledged_batches"], seen["missing"], seen["doubled"], seen["not_stored_answers"],
            seen["clock_not_moved"], seen["expiry_not_moved"]) == (0, 0, 0, 0, 0, 0), seen
