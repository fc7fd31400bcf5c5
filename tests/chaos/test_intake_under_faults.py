"""Issue 14, point 5: lead intake under lost answers and throttling - nothing lost, nothing doubled, no client
kept waiting.

Many web-form clients at once, each one person, each retrying with its own ``Idempotency-Key`` on a 5xx
(and after a 409 ``request_in_progress``'s Retry-After), as the widget does. Measured per client: its 5xx,
its longest run of 5xx in a row, its wall time from first try to answer. Afterwards, with injection off,
each person is looked up by their phone's identity claim: lost is a person without a stored lead (or a
client never answered), doubled a lead no claim names or a client told another lead than the stored one.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.chaos.conftest import SCALES
from tests.support.fault_proxy import AMBIGUOUS, PARTIAL, THROTTLE, WRITE_OPERATIONS, Fault
from tests.support.http import body_of, contract_error
from tests.support.leads import lead_body, post_lead

pytestmark = [pytest.mark.integration, pytest.mark.chaos]

MAX_IN_A_ROW = 2  # 5xx a client may see in a row
MAX_WAIT_S = 5.0  # a web form's patience, first try to answer
GIVE_UP_S = 12.0  # a client stops retrying: its lead is lost at the source (a form gives up sooner)
BACKOFF_S = (0.1, 0.2, 0.4, 0.8, 1.0)
RETURNING = 4  # every fourth person submits again later (with another key): a merge into their lead

FAULTS = {
    # Writes applied with their answers lost (half as 500s, half as dropped connections).
    "lost_answers": lambda: [Fault(AMBIGUOUS, rate=0.3, operations=WRITE_OPERATIONS)],
    # 20% of writes throttled (as the issue measured), and batches coming back partly unprocessed.
    "throttling": lambda: [Fault(THROTTLE, rate=0.2, operations=WRITE_OPERATIONS), Fault(PARTIAL, rate=0.3)],
}


@dataclass
class Client:
    """One person's form: a first submission, and for every ``RETURNING``-th person a second one later (a merge)."""

    n: int
    lead_id: str | None = None  # the first answer's lead
    merged_into: list[str | None] = field(default_factory=list)  # the later submissions' leads
    five_xx: int = 0
    worst_run: int = 0
    shapeless: int = 0
    other: int = 0  # answers that are neither 2xx, 5xx nor request_in_progress
    waited_s: float = 0.0  # the longest any one submission took, first try to answer
    attempts: int = 0  # the most tries any one submission took
    slowest: list[tuple[int, float]] = field(default_factory=list)  # that submission's (status, seconds) per try


def in_progress(response: Any) -> bool:
    return response.status_code == 409 and contract_error(response) \
        and body_of(response)["error"]["code"] == "request_in_progress"


def submit(api: Any, widget: dict, n: int) -> Client:
    client = Client(n)
    client.lead_id = send(api, widget, client, f"form-{n}", f"Visitor {n}")
    if n % RETURNING == 0:
        client.merged_into.append(send(api, widget, client, f"form-{n}-again", f"Visitor {n} Again"))
    return client


def send(api: Any, widget: dict, client: Client, key: str, name: str) -> str | None:
    """One submission with its retries; the lead it was answered with (None if it never was)."""
    body = lead_body(name=name, phone=phone(client.n), email=f"visitor{client.n}@example.org",
                     consent={"purposes": ["contact"], "policy_version": "2026-11"})
    started, run, attempts, lead_id, trace = time.monotonic(), 0, 0, None, []
    while time.monotonic() - started < GIVE_UP_S:
        sent = time.monotonic()
        response = post_lead(api, widget, body, **{"Idempotency-Key": key})
        trace.append((response.status_code, round(time.monotonic() - sent, 2)))
        attempts += 1
        if response.status_code in (200, 201):
            lead_id = body_of(response)["lead_id"]
            break
        if response.status_code >= 500:
            client.five_xx += 1
            client.shapeless += 0 if contract_error(response) else 1
            run += 1
            client.worst_run = max(client.worst_run, run)
            time.sleep(BACKOFF_S[min(run - 1, len(BACKOFF_S) - 1)])
        elif in_progress(response):
            run = 0
            time.sleep(min(float(response.headers.get("Retry-After") or 1), 2.0))
        else:
            client.other += 1
            break
    waited = round(time.monotonic() - started, 2)
    if waited > client.waited_s:
        client.waited_s, client.slowest = waited, trace
    client.attempts = max(client.attempts, attempts)
    return lead_id


def phone(n: int) -> str:
    return f"+91 97000 {n:05d}"


def tenant_leads(raw: Any, tenant: str) -> list[str]:
    name = os.environ["LEADVAULT_TABLE_PREFIX"] + "leads"
    return [item["lead_id"]["S"] for page in raw.get_paginator("scan").paginate(TableName=name, ConsistentRead=True)
            for item in page["Items"] if item["tenant_id"]["S"] == tenant]


def claimed_leads(raw: Any, tenant_id: str, count: int) -> dict[int, str | None]:
    """Each person's lead as their phone's identity claim names it (None: no claim)."""
    from chalicelib import invocation
    from chalicelib.services.leads.identifiers import normalise_phone
    from chalicelib.services.tenants.tenancy import require_tenant
    from chalicelib.store.leads import claim_key
    from chalicelib.vault.blind_index import blind_index

    name = os.environ["LEADVAULT_TABLE_PREFIX"] + "unique_keys"
    found: dict[int, str | None] = {}
    with invocation.invocation():
        tenant = require_tenant(tenant_id)
        for n in range(count):
            ref = blind_index(tenant, "phone", normalise_phone(phone(n), tenant.default_region))
            item = raw.get_item(TableName=name, Key={"pk": {"S": claim_key(tenant_id, "phone", ref)}},
                                ConsistentRead=True).get("Item")
            found[n] = item["lead_id"]["S"] if item else None
    return found


def figures(clients: list[Client], stored: list[str], claimed: dict[int, str | None]) -> dict[str, Any]:
    live = set(stored)
    return {
        "lost": sum(1 for client in clients if claimed[client.n] not in live),
        "submissions": len(clients) + sum(len(client.merged_into) for client in clients),
        "unanswered": sum(1 for client in clients for lead_id in [client.lead_id, *client.merged_into] if not lead_id),
        "doubled": len(live - set(claimed.values())) + len(stored) - len(live)
        + sum(1 for client in clients for lead_id in [client.lead_id, *client.merged_into]
              if lead_id and lead_id != claimed[client.n]),
        "5xx": sum(client.five_xx for client in clients),
        "clients_with_5xx": sum(1 for client in clients if client.five_xx),
        "max_5xx_in_a_row": max(client.worst_run for client in clients),
        "max_wait_s": max(client.waited_s for client in clients),
        "slowest_tries": max(clients, key=lambda client: client.waited_s).slowest,
        "max_attempts": max(client.attempts for client in clients),
        "5xx_shapeless": sum(client.shapeless for client in clients),
        "other_answers": sum(client.other for client in clients),
    }


@pytest.mark.parametrize("faults", sorted(FAULTS))
def test_lead_intake_loses_nothing_doubles_nothing_and_keeps_no_one_waiting(
    faults, api, widget, tenant, generous_budgets, raw, proxy, chaos_seed, chaos_scale, report,
):
    count, threads = chaos_scale["intake_clients"], chaos_scale["intake_threads"]
    started = time.monotonic()
    with proxy.faults(*FAULTS[faults]()), ThreadPoolExecutor(max_workers=threads) as pool:
        clients = list(pool.map(lambda n: submit(api, widget, n), range(count)))
    elapsed = round(time.monotonic() - started, 1)
    seen = {"clients": count, "threads": threads, "seconds": elapsed,
            **figures(clients, tenant_leads(raw, tenant), claimed_leads(raw, tenant, count))}
    report(faults=faults, **seen)
    assert (seen["lost"], seen["unanswered"], seen["doubled"], seen["5xx_shapeless"], seen["other_answers"]) \
        == (0, 0, 0, 0, 0), seen
    assert seen["max_5xx_in_a_row"] <= MAX_IN_A_ROW, seen
    if chaos_scale is SCALES["long"]:
        # A wall-clock figure: held in the long run (``make chaos``), only reported in the quick one.
        assert seen["max_wait_s"] <= MAX_WAIT_S, seen
