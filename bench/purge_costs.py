"""Purge cost tracks what expired, not the table: 1,000 expired leads among 20,000 and 100,000 live items."""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import time

from bench.ddb_meter import install, metered
from bench.report import figure
from bench.tenants import publish_policy
from devtools.dynamodb_local import DynamoDBLocal, free_port

EXPIRED = 1_000


def _fill_live(tenant_id: str, count: int) -> None:
    """Live leads far from expiry, written raw in batches (their content does not matter here)."""
    from chalicelib.store.batch import _client
    from chalicelib.store.models.leads import LIST_SHARDS, LeadRecord

    client, table = _client(), LeadRecord.Meta.table_name
    for start in range(0, count, 25):
        requests = []
        for n in range(start, min(start + 25, count)):
            lead_id = f"led_{secrets.token_hex(10)}"
            requests.append({"PutRequest": {"Item": {
                "lead_id": {"S": lead_id}, "tenant_id": {"S": tenant_id},
                "list_pk": {"S": f"{tenant_id}#{n % LIST_SHARDS}"},
                "list_sk": {"S": f"2031-01-01T00:00:00.000000Z#{lead_id}"},
                "expires_at": {"N": "1924992000"}, "source": {"S": "web"}, "stage": {"S": "new"}}}})
        client.batch_write_item(RequestItems={table: requests})


def run(live_counts: tuple[int, ...] = (20_000, 100_000)) -> None:
    for live in live_counts:
        engine = DynamoDBLocal(port=free_port()).start()
        workdir = tempfile.mkdtemp(prefix="leadvault-bench-")
        os.environ.update({
            "LEADVAULT_STAGE": "test", "DYNAMODB_ENDPOINT_URL": engine.endpoint,
            "LEADVAULT_TABLE_PREFIX": f"purge{live}-", "LEADVAULT_MASTER_KEY_FILE": os.path.join(workdir, "master.key"),
            "AWS_DEFAULT_REGION": "us-east-1", "LEADVAULT_OUTBOX_DIR": os.path.join(workdir, "outbox"),
        })
        os.environ.pop("LEADVAULT_NOW", None)
        try:
            _measure(live)
        finally:
            engine.stop()


def _measure(live: int) -> None:
    from chalice.test import Client

    import app
    from chalicelib import clock
    from chalicelib.admin import invoke_operator
    from chalicelib.jobs import invoke_job
    from chalicelib.runtime import LocalContext
    from chalicelib.store.schema import create_tables

    install()
    create_tables()
    tenant = invoke_operator("admin_create_tenant", {"name": "Purge", "default_region": "IN"}, LocalContext("b"))
    publish_policy(tenant["tenant_id"], "1")
    admin = invoke_operator("admin_issue_api_key", {"tenant_id": tenant["tenant_id"], "role": "admin"},
                            LocalContext("b"))
    headers = {"Authorization": f"Bearer {admin['api_key']}", "Content-Type": "application/json"}
    with Client(app.app, stage_name="test") as client:
        for n in range(EXPIRED):
            body = {"name": "Old Lead", "phone": f"+91 98452 {n:05d}", "email": f"old{n}@example.org",
                    "consent": {"purposes": ["contact"], "policy_version": "1"}}
            answer = client.http.post("/v1/leads", headers=headers, body=json.dumps(body))
            assert answer.status_code == 201, answer.body  # a refused lead would leave nothing to purge
    started = time.perf_counter()
    _fill_live(tenant["tenant_id"], live)
    fill_s = time.perf_counter() - started
    os.environ["LEADVAULT_NOW"] = clock.iso(clock.now().replace(year=clock.now().year + 2))
    with metered() as meter:
        started = time.perf_counter()
        summary = invoke_job("purge_expired", LocalContext("purge_expired", timeout_s=900))
        purge_s = time.perf_counter() - started
    os.environ.pop("LEADVAULT_NOW", None)
    deleted = sum(v for k, v in summary.items() if k not in ("unfinished", "audit_records", "skipped_renewed"))
    figure("purge_items_read_per_item_deleted", round(meter.items_read / max(deleted, 1), 3), target_max=1.5,
           live_items=live, expired_leads=summary.get("leads", 0), items_deleted=deleted,
           items_read=meter.items_read, ddb_calls=meter.calls, scans=meter.operations.get("Scan", 0),
           by_operation=dict(meter.operations), purge_seconds=round(purge_s, 1), fill_seconds=round(fill_s, 1))
