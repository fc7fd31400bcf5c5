"""Webhook delivery throughput per Lambda invocation, on DynamoDB Local with a receiver on 127.0.0.1.

Each tenant's ``EVENTS`` new leads write their ``lead.created`` events; the events table's stream is read
back from DynamoDB Local (the local run's poller, devtools/stream_poller.py) and each tenant's records are
handed to ``deliver_webhooks`` as one Lambda batch, with 1 and with 3 subscriptions: a batch of 10 (within
what one run attempts per webhook) and a burst of 100 (the trigger's batch size), where the run attempts 10 per
webhook and stores the rest pending for ``retry_webhooks``. The figures are what one invocation gets through:
deliveries answered 2xx per second, and the DynamoDB calls and WCU per delivery stored. The receiver answers
at once, so this is LeadVault's own cost.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench.ddb_meter import install, metered
from bench.report import figure
from bench.tenants import publish_policy
from devtools.dynamodb_local import DynamoDBLocal, free_port

EVENTS = 100  # one Lambda batch: the trigger's batch_size (app.py)
SUBSCRIPTIONS = (1, 3)
LAMBDA_TIMEOUT_S = 120.0  # deliver_webhooks' lambda_timeout in .chalice/config.json


def run(events: int = EVENTS) -> None:
    engine = DynamoDBLocal(port=free_port()).start()
    workdir = tempfile.mkdtemp(prefix="leadvault-bench-")
    os.environ.update({
        "LEADVAULT_STAGE": "test", "DYNAMODB_ENDPOINT_URL": engine.endpoint, "LEADVAULT_TABLE_PREFIX": "hooks-",
        "LEADVAULT_MASTER_KEY_FILE": os.path.join(workdir, "master.key"), "AWS_DEFAULT_REGION": "us-east-1",
        "LEADVAULT_OUTBOX_DIR": os.path.join(workdir, "outbox"),
    })
    try:
        _measure(events)
    finally:
        engine.stop()


@contextmanager
def _receiver() -> Iterator[tuple[str, list[int]]]:
    """A receiver answering 200 at once; yields its URL and a list growing by one per request."""
    received: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.append(1)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks", received
    finally:
        server.shutdown()
        server.server_close()


def _records_by_tenant() -> dict[str, list[dict[str, Any]]]:
    """Every record on the events table's stream, read by the local run's poller, grouped by tenant."""
    from devtools.stream_poller import events_poller

    poller, found = events_poller(), {}

    def keep(records: list[dict[str, Any]]) -> dict[str, Any]:
        for record in records:
            tenant = record["dynamodb"]["NewImage"]["tenant_id"]["S"]
            found.setdefault(tenant, []).append(record)
        return {"batchItemFailures": []}

    poller.handle = keep
    while poller.poll_once() or poller.poll_once():  # a stale iterator's poll hands nothing: poll once more
        pass
    return found


def _measure(events: int) -> None:
    from chalice.test import Client

    import app
    from chalicelib.admin import invoke_operator
    from chalicelib.runtime import LocalContext
    from chalicelib.services.webhooks.retries import MAX_ATTEMPTS_PER_WEBHOOK
    from chalicelib.store.schema import create_tables

    install()
    create_tables()
    # A batch within the per-webhook cap of one run, and a burst of a whole Lambda batch beyond it.
    cases = [(count, size) for size in (MAX_ATTEMPTS_PER_WEBHOOK, events) for count in SUBSCRIPTIONS]
    with Client(app.app, stage_name="test") as client, _receiver() as (url, received):
        tenants = {}
        for count, size in cases:
            tenant = invoke_operator("admin_create_tenant", {"name": f"Hooks {count} {size}", "default_region": "IN"},
                                     LocalContext("b"))["tenant_id"]
            publish_policy(tenant, "2026-11")
            invoke_operator("admin_set_budgets", {"tenant_id": tenant, "budgets": {
                "leads_per_client_hour": 100_000, "leads_per_key_hour": 100_000}}, LocalContext("b"))
            keys = {role: invoke_operator("admin_issue_api_key", {"tenant_id": tenant, "role": role},
                                          LocalContext("b"))["api_key"] for role in ("admin", "widget")}
            for _ in range(count):  # subscribed before the events, as a subscription gets only later ones
                made = client.http.post("/v1/webhooks", body=json.dumps({"url": url, "event_types": ["lead.created"]}),
                                        headers={"Authorization": f"Bearer {keys['admin']}",
                                                 "Content-Type": "application/json"})
                assert made.status_code == 201, made.body
            for n in range(size):
                person = {"name": "Bench Person", "phone": f"+91 9{len(tenants)}{count}60 {n:05d}",
                          "email": f"b{len(tenants)}-{n}@example.org", "source": "web",
                          "consent": {"purposes": ["contact"], "policy_version": "2026-11"}}
                answer = client.http.post("/v1/leads", body=json.dumps(person), headers={
                    "Authorization": f"Bearer {keys['widget']}", "Content-Type": "application/json"})
                assert answer.status_code == 201, answer.body
            tenants[tenant] = count
        batches = _records_by_tenant()
        for tenant, count in tenants.items():
            _invocation(batches[tenant], count, received)


def _invocation(records: list[dict[str, Any]], count: int, received: list[int]) -> None:
    """One deliver_webhooks invocation of one tenant's records, metered."""
    from chalicelib.jobs import invoke_stream
    from chalicelib.runtime import LocalContext

    before = len(received)
    with metered() as meter:
        started = time.perf_counter()
        result = invoke_stream("deliver_webhooks", records,
                               LocalContext("deliver_webhooks", timeout_s=LAMBDA_TIMEOUT_S))
        seconds = time.perf_counter() - started
    delivered, stored = len(received) - before, len(records) * count
    context = {"subscriptions": count, "records": len(records)}
    figure("webhook_deliveries_per_s", round(delivered / seconds, 1), **context, delivered=delivered,
           left_for_retry=stored - delivered, seconds=round(seconds, 2),
           failed_records=len(result["batchItemFailures"]),
           meaning="deliveries answered 2xx per second in one deliver_webhooks invocation of one Lambda batch "
                   "of stream records (receiver on 127.0.0.1 answering at once); what the per-webhook cap of a "
                   "run leaves is stored pending for retry_webhooks")
    figure("webhook_ddb_calls_per_delivery", round(meter.calls / stored, 2), **context, ddb_calls=meter.calls,
           by_operation=dict(meter.operations), meaning="per delivery stored (event x subscription)")
    figure("webhook_wcu_per_delivery", round(meter.wcu / stored, 2), **context, wcu=round(meter.wcu, 2),
           rcu_per_delivery=round(meter.rcu / stored, 2), meaning="per delivery stored (event x subscription)")
