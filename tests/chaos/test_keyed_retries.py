"""Issue 14, point 2: retries with the same ``Idempotency-Key`` never do the work twice.

Two ways to get there: the write of the idempotency record itself fails (every try of the SDK refused,
so the first attempt answers 5xx, possibly after doing the work), and 30% of writes applied with their
answers lost plus 10% refused. Each client retries with the same key and body until it gets an answer,
then sends once more (a replay). Counted afterwards with injection off: consent ledger entries, privacy
requests filed and codes sent, leads.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any

import pytest

from tests.support.fault_proxy import AMBIGUOUS, SERVER_ERROR, WRITE_OPERATIONS, Fault
from tests.support.field import post
from tests.support.http import body_of, contract_error
from tests.support.leads import lead_body
from tests.support.outbox import messages

pytestmark = [pytest.mark.integration, pytest.mark.chaos, pytest.mark.usefixtures("short_sdk_sleeps")]

ATTEMPTS = 6
MAX_IN_PROGRESS_WAIT_S = 1.0


def in_progress(response: Any) -> bool:
    return response.status_code == 409 and (body_of(response).get("error") or {}).get("code") == "request_in_progress"


def until_answered(send: Callable[[], Any]) -> list[Any]:
    """A client's retries: on 5xx (and 409 ``request_in_progress``, after its Retry-After) up to ATTEMPTS."""
    responses = []
    for attempt in range(ATTEMPTS):
        response = send()
        responses.append(response)
        if response.status_code < 500 and not in_progress(response):
            break
        wait = float(response.headers.get("Retry-After") or 0) if in_progress(response) else 0.05 * 2**attempt
        time.sleep(min(wait, MAX_IN_PROGRESS_WAIT_S))
    return responses


def scan(raw: Any, suffix: str) -> list[dict]:
    import os

    name = os.environ["LEADVAULT_TABLE_PREFIX"] + suffix
    return [item for page in raw.get_paginator("scan").paginate(TableName=name, ConsistentRead=True)
            for item in page["Items"]]


class Resource:
    """One keyed route: what a client sends, and how many times its work was done."""

    def body(self, n: int) -> dict:
        raise NotImplementedError

    def path(self) -> str:
        raise NotImplementedError

    def done(self, n: int, answers: list[dict]) -> int:
        raise NotImplementedError


class Consents(Resource):
    def __init__(self, client: Any, admin: dict) -> None:
        self.client, self.admin = client, admin

    def path(self) -> str:
        return "/v1/consents"

    def body(self, n: int) -> dict:
        return {"visitor_id": f"v_chaos{n:04d}", "grants": {"performance": True}, "policy_version": "2026-11",
                "source": "cookie_banner"}

    def done(self, n: int, answers: list[dict]) -> int:
        report = body_of(post(self.client, self.admin, "/v1/consents/lookup", {"visitor_id": f"v_chaos{n:04d}"}))
        return len(report["history"])


class PrivacyRequests(Resource):
    def __init__(self, raw: Any, tenant: str) -> None:
        self.raw, self.tenant = raw, tenant

    def path(self) -> str:
        return "/v1/privacy-requests"

    def body(self, n: int) -> dict:
        return {"type": "access", "email": f"asker{n}@example.org"}

    def done(self, n: int, answers: list[dict]) -> int:
        """Requests filed for this person (by the request ids of every answer, and by codes sent)."""
        codes = sum(1 for message in messages() if message["to"] == f"asker{n}@example.org")
        return max(codes, len({answer["request_id"] for answer in answers}))

    def filed(self) -> int:
        return sum(1 for item in scan(self.raw, "privacy_requests")
                   if item["request_id"]["S"].startswith("prq_") and item["tenant_id"]["S"] == self.tenant)


class Leads(Resource):
    def __init__(self, raw: Any, tenant: str) -> None:
        self.raw, self.tenant = raw, tenant

    def path(self) -> str:
        return "/v1/leads"

    def body(self, n: int) -> dict:
        return lead_body(name=f"Keyed {n}", phone=f"+91 98000 5{n:04d}", email=f"keyed{n}@example.org",
                         consent={"purposes": ["contact"], "policy_version": "2026-11"})

    def done(self, n: int, answers: list[dict]) -> int:
        return len({answer["lead_id"] for answer in answers})

    def stored(self) -> int:
        return sum(1 for item in scan(self.raw, "leads") if item.get("tenant_id", {}).get("S") == self.tenant)


@pytest.fixture
def resources(client, raw, tenant, issue_key, generous_budgets) -> dict[str, Resource]:
    return {"consents": Consents(client, issue_key("admin")), "privacy_requests": PrivacyRequests(raw, tenant),
            "leads": Leads(raw, tenant)}


def run_clients(client: Any, widget: dict, resource: Resource, count: int, first: Callable[[], Any],
                rest: Callable[[], Any], proxy: Any) -> dict[str, Any]:
    """Each client: a first attempt under ``first()``, retries with the same key under ``rest()`` until it is
    answered, then one more send (which must replay the answer)."""
    answers: dict[int, list[dict]] = {}
    five_xx, shapeless, unanswered = 0, 0, 0
    for n in range(count):
        def send(n: int = n) -> Any:
            key = f"chaos-{resource.path().strip('/').replace('/', '-')}-{n}"
            return post(client, widget, resource.path(), resource.body(n), **{"Idempotency-Key": key})

        with first():
            responses = [send()]
        with rest():
            if responses[0].status_code >= 500 or in_progress(responses[0]):
                responses += until_answered(send)
            responses.append(send())
        five_xx += sum(1 for r in responses if r.status_code >= 500)
        shapeless += sum(1 for r in responses if r.status_code >= 400 and not contract_error(r))
        good = [r for r in responses if 200 <= r.status_code < 300]
        unanswered += 0 if good else 1
        answers[n] = [body_of(r) for r in good]
    with proxy.quiet():
        done = {n: resource.done(n, answers[n]) for n in range(count)}
    differing = sum(1 for found in answers.values() if len({json.dumps(a, sort_keys=True) for a in found}) > 1)
    return {"clients": count, "unanswered": unanswered, "doubled": sum(1 for d in done.values() if d > 1),
            "not_done": sum(1 for d in done.values() if d == 0), "replays_differing": differing,
            "5xx": five_xx, "5xx_shapeless": shapeless}


def _stored(resource: Resource) -> dict[str, int]:
    if isinstance(resource, PrivacyRequests):
        return {"stored": resource.filed()}
    if isinstance(resource, Leads):
        return {"stored": resource.stored()}
    return {}


ROUTES = ("consents", "privacy_requests", "leads")


def run_routes(client: Any, widget: dict, resources: dict[str, Resource], count: int, first: Callable[[], Any],
               rest: Callable[[], Any], proxy: Any, report: Any) -> dict[str, dict[str, Any]]:
    """Every keyed route in turn (one tenant: each counts only its own kind of work); figures by route."""
    seen = {}
    for route in ROUTES:
        resource = resources[route]
        seen[route] = run_clients(client, widget, resource, count, first=first, rest=rest, proxy=proxy)
        seen[route].update(_stored(resource))
    report(**seen)
    return seen


def failures(seen: dict[str, dict[str, Any]]) -> dict[str, dict[str, int]]:
    """By route, every figure that must be 0 and is not (and ``stored`` when it is not one per client)."""
    wrong: dict[str, dict[str, int]] = {}
    for route, figures in seen.items():
        bad = {name: figures[name] for name in ("doubled", "not_done", "unanswered", "replays_differing",
                                                 "5xx_shapeless") if figures[name]}
        if figures.get("stored", figures["clients"]) != figures["clients"]:
            bad["stored"] = figures["stored"]
        if bad:
            wrong[route] = bad
    return wrong


def test_a_failed_idempotency_record_write_never_doubles_the_work(
    client, widget, resources, proxy, chaos_seed, chaos_scale, report,
):
    """Every write naming the key's record refused during the first attempt (all of the SDK's tries): that
    attempt answers 5xx; its retry with the same key must not do the work again."""
    seen = run_routes(
        client, widget, resources, chaos_scale["keyed_requests"],
        first=lambda: proxy.faults(Fault(SERVER_ERROR, operations=WRITE_OPERATIONS, body_contains="#idem#")),
        rest=nullcontext, proxy=proxy, report=report)
    assert failures(seen) == {}, seen


def test_keyed_retries_under_lost_answers_never_double(
    client, widget, resources, proxy, chaos_seed, chaos_scale, report,
):
    """30% of writes applied with their answers lost, 10% refused, for every attempt and the replay."""

    def faults() -> Any:
        return proxy.faults(Fault(AMBIGUOUS, rate=0.3, operations=WRITE_OPERATIONS),
                            Fault(SERVER_ERROR, rate=0.1, operations=WRITE_OPERATIONS))

    seen = run_routes(client, widget, resources, chaos_scale["keyed_requests"], first=faults, rest=faults,
                      proxy=proxy, report=report)
    assert failures(seen) == {}, seen
