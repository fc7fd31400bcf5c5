"""DynamoDB calls and consumed capacity per operation, on DynamoDB Local (real capacity figures)."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from typing import Any

from bench.ddb_meter import install, metered
from bench.report import figure
from bench.tenants import publish_policy
from devtools.dynamodb_local import DynamoDBLocal, free_port


def measure(operation: str, action: Callable[[], Any]) -> Any:
    with metered() as meter:
        result = action()
    figure("ddb_calls", meter.calls, operation=operation, by_operation=dict(meter.operations))
    figure("wcu", round(meter.wcu, 2), operation=operation)
    figure("rcu", round(meter.rcu, 2), operation=operation)
    return result


def run() -> None:
    engine = DynamoDBLocal(port=free_port()).start()
    workdir = tempfile.mkdtemp(prefix="leadvault-bench-")
    os.environ.update({
        "LEADVAULT_STAGE": "test", "DYNAMODB_ENDPOINT_URL": engine.endpoint, "LEADVAULT_TABLE_PREFIX": "bench-",
        "LEADVAULT_MASTER_KEY_FILE": os.path.join(workdir, "master.key"), "AWS_DEFAULT_REGION": "us-east-1",
    })
    try:
        _operations()
    finally:
        engine.stop()


def _operations() -> None:
    from chalice.test import Client

    import app
    from chalicelib.admin import invoke_operator
    from chalicelib.runtime import LocalContext
    from chalicelib.store.schema import create_tables

    install()
    create_tables()
    tenant = invoke_operator("admin_create_tenant", {"name": "Bench", "default_region": "IN"}, LocalContext("b"))
    publish_policy(tenant["tenant_id"], "2026-11")  # the version the bench's consents name
    payload = {"tenant_id": tenant["tenant_id"], "role": "admin"}
    invoke_operator("admin_issue_api_key", payload, LocalContext("warm-up"))
    key = measure("issue_api_key", lambda: invoke_operator("admin_issue_api_key", payload, LocalContext("b")))
    with Client(app.app, stage_name="test") as client:
        headers = {"Authorization": f"Bearer {key['api_key']}"}
        response = measure("authenticated_request", lambda: client.http.get("/v1/me", headers=headers))
        assert response.status_code == 200, response.body
        widget = invoke_operator("admin_issue_api_key", {**payload, "role": "widget"}, LocalContext("b"))
        cors_costs(client, payload)
        lead_costs(client, widget)
        budget_costs(client, widget, key)
        # A load test is one client sending hundreds of leads: the operator lifts that client's budget.
        invoke_operator("admin_set_budgets", {"tenant_id": tenant["tenant_id"], "budgets": {
            "leads_per_client_hour": 100_000, "leads_per_key_hour": 100_000}}, LocalContext("b"))
        bare_put_s = lead_throughput(client, widget)
        agent = invoke_operator("admin_issue_api_key", {**payload, "role": "agent", "agent_id": "bench-agent"},
                                LocalContext("b"))
        call_batch_costs(client, agent, bare_put_s)
        event_costs(client, widget, key, agent)
        report_costs(client, key, agent)
        lead_list_costs(client, key)


def cors_costs(client: Any, payload: dict[str, str]) -> None:
    """A browser's preflight (one read of the origin index) and what an origin adds to issuing a key."""
    origin = "https://shop.example.com"
    measure("issue_widget_key_with_origin", lambda: invoke_operator_now(
        "admin_issue_api_key", {**payload, "role": "widget", "allowed_origins": [origin]}))
    answer = measure("cors_preflight", lambda: client.http.request("OPTIONS", "/v1/leads", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST"}))
    assert answer.status_code == 204, answer.body


def invoke_operator_now(name: str, payload: dict[str, Any]) -> Any:
    from chalicelib.admin import invoke_operator
    from chalicelib.runtime import LocalContext

    return invoke_operator(name, payload, LocalContext("b"))


LEAD = {"name": "Asha Rao", "phone": "+91 98450 12345", "email": "asha.rao@example.org", "source": "web",
        "consent": {"purposes": ["contact", "marketing_email"], "policy_version": "2026-11"},
        "utm": {"source": "google", "campaign": "winter"}}
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"


def post_lead(client: Any, widget: dict[str, str], body: dict[str, Any], idempotency_key: str | None) -> Any:
    import json

    headers = {"Authorization": f"Bearer {widget['api_key']}", "Content-Type": "application/json",
               "User-Agent": BROWSER}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    return client.http.post("/v1/leads", headers=headers, body=json.dumps(body))


def lead_costs(client: Any, widget: dict[str, str]) -> None:
    """A new lead and a merged one, both as a widget sends them (with an Idempotency-Key)."""
    post_lead(client, widget, {**LEAD, "phone": "+91 98450 00000", "email": "warm@example.org"}, "warm-up")
    created = measure("new_lead", lambda: post_lead(client, widget, LEAD, "bench-new"))
    assert created.status_code == 201, created.body
    # Without an Idempotency-Key there is no key to claim first: one write call fewer.
    unkeyed = measure("new_lead_unkeyed", lambda: post_lead(
        client, widget, {**LEAD, "phone": "+91 98450 00001", "email": "unkeyed@example.org"}, None))
    assert unkeyed.status_code == 201, unkeyed.body
    merged = measure("merged_lead", lambda: post_lead(client, widget, {**LEAD, "name": "Asha R."}, "bench-merge"))
    assert merged.status_code == 200, merged.body
    replayed = measure("replayed_lead", lambda: post_lead(client, widget, LEAD, "bench-new"))
    assert replayed.status_code == 201, replayed.body


_READS = ("GetItem", "BatchGetItem", "Query", "Scan")
_WRITE_CALLS = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")


def _split(meter: Any) -> tuple[int, int]:
    ops = meter.operations
    return sum(ops[name] for name in _WRITE_CALLS), sum(ops[name] for name in _READS)


def budget_costs(client: Any, widget: dict[str, str], admin: dict[str, str]) -> None:
    """What the public budgets add to a request: the same request with the widget key (budgets spent)
    and with a staff key (no budgets), and the calls of a new lead, with and without a message to send."""
    import json

    from bench.ddb_meter import metered

    def request(key: dict[str, str], path: str, body: dict[str, Any]) -> Any:
        return client.http.post(path, body=json.dumps(body), headers={
            "Authorization": f"Bearer {key['api_key']}", "Content-Type": "application/json"})

    cases = {
        "consents": ("/v1/consents", lambda n: {"visitor_id": f"bench-visitor-{n}", "grants": {"performance": True},
                                                "policy_version": "2026-11"}),
        "privacy_requests": ("/v1/privacy-requests", lambda n: {"type": "access", "email": f"b{n}@example.org"}),
    }
    for name, (path, body) in cases.items():
        costs = {}
        for role, key in (("widget", widget), ("staff", admin)):
            request(key, path, body(f"warm-{role}"))
            with metered() as meter:
                answer = request(key, path, body(role))
            assert answer.status_code in (201, 202), answer.body
            costs[role] = (*_split(meter), meter.wcu)
        figure("budget_extra_write_calls", costs["widget"][0] - costs["staff"][0], operation=name,
               meaning="write calls a public request makes beyond the same request by staff (target <= 1)")
        figure("budget_extra_read_calls", costs["widget"][1] - costs["staff"][1], operation=name,
               meaning="read calls the budgets add (target 0)")
        figure("budget_extra_wcu", round(costs["widget"][2] - costs["staff"][2], 2), operation=name)
    for name, consent in (("new_lead_contact_only", ["contact"]), ("new_lead_with_marketing", ["contact",
                                                                                                "marketing_email"])):
        body = {**LEAD, "phone": f"+91 98452 0000{len(consent)}", "email": f"{name}@example.org",
                "consent": {"purposes": consent, "policy_version": "2026-11"}}
        with metered() as meter:
            created = post_lead(client, widget, body, None)
        assert created.status_code == 201, created.body
        writes, reads = _split(meter)
        figure("write_calls", writes, operation=name, by_operation=dict(meter.operations),
               meaning="new lead: claims, lead, events, answer, budgets and the links' message budgets in one "
                       "transaction (target 1; with authentication and the identity read, 3 round trips)")
        figure("read_calls", reads, operation=name)


def lead_throughput(client: Any, widget: dict[str, str], count: int = 200) -> float:
    """Leads per second through the handler, against a bare boto3 put_item loop in the same run;
    returns the seconds of one bare put_item."""
    import boto3

    people = [{**LEAD, "phone": f"+91 98451 {n:05d}", "email": f"p{n}@example.org"} for n in range(count)]
    started = time.perf_counter()
    for body in people:
        assert post_lead(client, widget, body, None).status_code == 201
    handler_s = time.perf_counter() - started
    raw = boto3.client("dynamodb", endpoint_url=os.environ["DYNAMODB_ENDPOINT_URL"], region_name="us-east-1",
                       aws_access_key_id="local", aws_secret_access_key="local")
    table = os.environ["LEADVAULT_TABLE_PREFIX"] + "timeline"
    started = time.perf_counter()
    for n in range(count):
        raw.put_item(TableName=table, Item={"owner": {"S": f"bench#{n}"}, "sort_key": {"S": "x"},
                                            "payload": {"S": "y" * 600}})
    put_s = time.perf_counter() - started
    figure("lead_throughput_ratio", round(handler_s / put_s, 2), leads=count,
           handler_leads_per_s=round(count / handler_s, 1), bare_put_items_per_s=round(count / put_s, 1),
           meaning="seconds per lead through the handler over seconds per bare put_item")
    return put_s / count


def call_batch_costs(client: Any, agent: dict[str, str], bare_put_s: float) -> None:
    """A batch of 100 call events to 100 known leads (the leads made by ``lead_throughput``), on shift."""
    import json

    headers = {"Authorization": f"Bearer {agent['api_key']}", "Content-Type": "application/json"}
    assert client.http.post("/v1/shifts/start", headers=headers, body="{}").status_code == 201
    from datetime import timedelta

    from chalicelib.clock import iso, now

    started = iso(now() + timedelta(seconds=2))  # just after punch-in (times are sent to the second)
    events = [{"client_event_id": f"bench-{n}", "number": f"+91 98451 {n:05d}", "direction": "outgoing",
               "status": "answered", "started_at": started, "duration_s": 30} for n in range(100)]
    body = json.dumps({"events": events})
    started_s = time.perf_counter()
    with metered() as meter:
        response = measure("call_batch_100", lambda: client.http.post("/v1/calls", headers=headers, body=body))
    batch_s = time.perf_counter() - started_s
    figure("call_batch_ratio", round(batch_s / bare_put_s, 1), calls=100,
           meaning="seconds for one upload of 100 call events over seconds per bare put_item (100 bare puts: 100)")
    statuses = {r["status"] for r in json.loads(response.body)["results"]}
    assert statuses == {"stored"}, statuses
    figure("write_calls", _split(meter)[0] + meter.operations["BatchExecuteStatement"], operation="call_batch_100",
           meaning="100 calls to 100 known leads: the calls and the audit record in 5 batch writes, the leads' "
                   "contact clocks in 4 batch updates, no timeline item per call (target <= 9; 13 before)")
    measure("call_batch_100_replayed", lambda: client.http.post("/v1/calls", headers=headers, body=body))


def event_costs(client: Any, widget: dict[str, str], admin: dict[str, str], agent: dict[str, str]) -> None:
    """What the event log adds to each change: write calls with the event minus the same change without it
    (target 0: the event rides in the change's own transaction or batch). Leads ``+91 98451 001xx`` are
    ``lead_throughput``'s; the agent's shift is open since ``call_batch_costs``."""
    import json
    from contextlib import nullcontext
    from unittest import mock

    from bench.ddb_meter import metered
    from chalicelib.clock import iso, now

    def request(method: str, key: dict[str, str], path: str, body: dict[str, Any]) -> Any:
        return client.http.request(method, path, body=json.dumps(body), headers={
            "Authorization": f"Bearer {key['api_key']}", "Content-Type": "application/json"})

    def person(n: int) -> dict[str, Any]:
        return {**LEAD, "phone": f"+91 98451 {n:05d}", "email": f"p{n}@example.org"}

    made = {label: post_lead(client, widget, {**LEAD, "phone": f"+91 98453 0000{n}", "email": f"{label}@example.org"},
                             None).json_body["lead_id"] for n, label in enumerate(("patch-on", "patch-off"))}

    def change(kind: str, events_on: bool) -> Any:
        n = 100 + 10 * ("new_lead", "merge", "patch", "call_upload", "consent").index(kind) + (0 if events_on else 1)
        label = "on" if events_on else "off"
        if kind == "new_lead":
            return post_lead(client, widget, {**LEAD, "phone": f"+91 98454 {n:05d}", "email": f"n{n}@example.org"},
                             None)
        if kind == "merge":
            return post_lead(client, widget, {**person(n), "utm": {"source": "merge-bench"}}, None)
        if kind == "patch":
            return request("PATCH", admin, f"/v1/leads/{made['patch-' + label]}", {"stage": "contacted"})
        if kind == "call_upload":
            events = [{"client_event_id": f"event-bench-{label}-{m}", "number": f"+91 98451 {n + 50 * m:05d}",
                       "direction": "outgoing", "status": "answered", "started_at": iso(now()), "duration_s": 30}
                      for m in range(2)]
            return request("POST", agent, "/v1/calls", {"events": events})
        return request("POST", admin, "/v1/consents", {"phone": person(n)["phone"], "grants": {"marketing_sms": True},
                                                       "policy_version": "2026-11"})

    for kind in ("new_lead", "merge", "patch", "call_upload", "consent"):
        writes = {}
        for events_on in (True, False):
            off = nullcontext() if events_on else mock.patch("chalicelib.store.events.new_event", lambda *a, **k: None)
            with off, metered() as meter:
                answer = change(kind, events_on)
            assert answer.status_code in (200, 201), (kind, answer.body)
            assert kind != "call_upload" or {r["status"] for r in answer.json_body["results"]} == {"stored"}
            writes[events_on] = _split(meter)[0] + meter.operations["BatchExecuteStatement"]
        figure("event_extra_write_calls", writes[True] - writes[False], operation=kind, with_event=writes[True],
               meaning="write calls the event log adds to the change (target 0: same transaction or batch)")


def lead_list_costs(client: Any, admin: dict[str, str]) -> None:
    """A page of the staff lead list (unfiltered, with a filter that keeps a few, with one that keeps none), a
    search by phone, and a CSV export answer, over the tenant's 200-odd leads: DynamoDB calls and read units
    (each also writes its audit record), and how many items the list's Queries read for what they returned
    (filters run inside the Query, so a selective one reads more than it returns; reads are bounded per page)."""
    import json

    from chalicelib import invocation
    from chalicelib.services.access.auth import authenticate
    from chalicelib.services.leads import listing

    headers = {"Authorization": f"Bearer {admin['api_key']}"}
    for name, query in (("unfiltered", ""), ("filtered", "stage=new&source=web&created_from=2020-01-01"),
                        ("filtered_none", "source=nowhere")):
        answer = measure(f"lead_list_{name}", lambda query=query: client.http.get(
            f"/v1/leads?limit=50&{query}", headers=headers))
        assert answer.status_code == 200, answer.body
        params = dict(part.split("=") for part in query.split("&") if part)
        with invocation.invocation():
            caller = authenticate(headers["Authorization"])
            found, _cursor, read = listing.page(caller, listing.parse_search(caller, params), 50, None)
        figure("lead_list_items_read", read, operation=f"lead_list_{name}", returned=len(found))
    answer = measure("lead_search", lambda: client.http.post(
        "/v1/leads/search", headers={**headers, "Content-Type": "application/json"},
        body=json.dumps({"q": LEAD["phone"]})))
    assert answer.status_code == 200 and len(answer.json_body["items"]) == 1, answer.body
    answer = measure("lead_export_page", lambda: client.http.get("/v1/leads/export", headers=headers))
    assert answer.status_code == 200, answer.body
    figure("lead_export_rows", answer.body.decode().count("\r\n") - 1, operation="lead_export_page")


def report_costs(client: Any, admin: dict[str, str], agent: dict[str, str]) -> None:
    """One page of each admin report (DynamoDB calls and read units; every page also writes its audit record
    where the route audits), and what the daily field-work counts add to a call upload: the same upload with
    the counts and with them turned off (target: one conditional update per agent and day the upload touches).
    The tenant holds the 200 leads of ``lead_throughput``; the agent's shift is open since ``call_batch_costs``."""
    import json
    from contextlib import nullcontext
    from datetime import timedelta
    from unittest import mock

    from chalicelib.clock import iso, now

    headers = {"Authorization": f"Bearer {admin['api_key']}"}
    for name, path in (("privacy_requests", "/v1/privacy-requests"), ("policies", "/v1/policies"),
                       ("retention", "/v1/reports/retention"), ("calls", "/v1/reports/calls"),
                       ("calls_31_days", f"/v1/reports/calls?from={now() - timedelta(days=30):%Y-%m-%d}"
                                         f"&to={now():%Y-%m-%d}"),
                       ("audit", "/v1/audit"), ("audit_filtered", "/v1/audit?action=lead.read")):
        answer = measure(f"report_{name}", lambda path=path: client.http.get(path, headers=headers))
        assert answer.status_code == 200, (name, answer.body)
    agent_headers = {"Authorization": f"Bearer {agent['api_key']}", "Content-Type": "application/json"}
    costs = {}
    for counted in (True, False):
        label = "on" if counted else "off"
        events = [{"client_event_id": f"count-bench-{label}-{m}", "number": f"+91 98451 {m:05d}",
                   "direction": "outgoing", "status": "answered", "started_at": iso(now()), "duration_s": 30}
                  for m in range(2)]
        off = nullcontext() if counted else mock.patch("chalicelib.store.field_work.add_to_day",
                                                       lambda *a, **k: False)
        with off, metered() as meter:
            answer = client.http.post("/v1/calls", headers=agent_headers, body=json.dumps({"events": events}))
        assert answer.status_code == 200, answer.body
        costs[counted] = (_split(meter)[0] + meter.operations["BatchExecuteStatement"], meter.wcu)
    figure("daily_count_extra_write_calls", costs[True][0] - costs[False][0], operation="call_upload",
           meaning="write calls the daily field-work counts add to an upload (target 1 per agent and day)")
    figure("daily_count_extra_wcu", round(costs[True][1] - costs[False][1], 2), operation="call_upload")
