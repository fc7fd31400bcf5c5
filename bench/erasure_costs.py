"""Erasure work grows with the person's data, not the table: items read for one person among many."""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import time
from typing import Any

from bench.ddb_meter import install, metered
from bench.report import figure
from devtools.dynamodb_local import DynamoDBLocal, free_port

OTHERS = 20_000
PERSON_ITEMS = 50


def run(others: int = OTHERS) -> None:
    engine = DynamoDBLocal(port=free_port()).start()
    workdir = tempfile.mkdtemp(prefix="leadvault-bench-")
    os.environ.update({
        "LEADVAULT_STAGE": "test", "DYNAMODB_ENDPOINT_URL": engine.endpoint, "LEADVAULT_TABLE_PREFIX": "erase-",
        "LEADVAULT_MASTER_KEY_FILE": os.path.join(workdir, "master.key"), "AWS_DEFAULT_REGION": "us-east-1",
        "LEADVAULT_OUTBOX_DIR": os.path.join(workdir, "outbox"),
    })
    try:
        _measure(others)
    finally:
        engine.stop()


def _fill_others(tenant_id: str, count: int) -> None:
    """Other people's timeline items, written raw in batches (their content does not matter here)."""
    from chalicelib.store.batch import _client
    from chalicelib.store.models.timeline import TimelineRecord

    client, table = _client(), TimelineRecord.Meta.table_name
    for start in range(0, count, 25):
        requests = [{"PutRequest": {"Item": {
            "owner": {"S": f"led_{secrets.token_hex(10)}"}, "sort_key": {"S": f"2026-11-01T00:00:00.000000Z#{n}"},
            "event_id": {"S": f"evt_{n}"}, "tenant_id": {"S": tenant_id}, "type": {"S": "submission"},
            "at": {"S": "2026-11-01T00:00:00.000000+0000"}}}} for n in range(start, min(start + 25, count))]
        client.batch_write_item(RequestItems={table: requests})


def _measure(others: int) -> None:
    from chalice.test import Client

    import app
    from chalicelib.admin import invoke_operator
    from chalicelib.jobs import invoke_job
    from chalicelib.runtime import LocalContext
    from chalicelib.store.schema import create_tables

    install()
    create_tables()
    tenant = invoke_operator("admin_create_tenant", {"name": "Erase", "default_region": "IN"}, LocalContext("b"))
    admin = invoke_operator("admin_issue_api_key", {"tenant_id": tenant["tenant_id"], "role": "admin"},
                            LocalContext("b"))
    started = time.perf_counter()
    _fill_others(tenant["tenant_id"], others)
    fill_s = time.perf_counter() - started
    headers = {"Authorization": f"Bearer {admin['api_key']}", "Content-Type": "application/json"}
    person = {"name": "Meera Iyer", "phone": "+91 99000 12345", "email": "meera@example.org"}
    with Client(app.app, stage_name="test") as client:
        client.http.post("/v1/leads", headers=headers, body=json.dumps(person))
        for n in range(PERSON_ITEMS - 2):  # the lead's own item and first submission count as the rest
            client.http.post("/v1/leads", headers=headers, body=json.dumps({**person, "name": f"Meera {n}"}))
        filed = client.http.post("/v1/privacy-requests", headers=headers,
                                 body=json.dumps({"type": "erasure", "email": person["email"],
                                                  "verified_by_admin": True}))
        request_id = json.loads(filed.body)["request_id"]
        with metered() as meter:
            summary = invoke_job("privacy_worker", LocalContext("privacy_worker", timeout_s=600))
        status = json.loads(client.http.get(f"/v1/privacy-requests/{request_id}", headers=headers).body)
    erased: Any = status.get("receipt") or {}
    erased_items = sum(int(v) for v in erased.values())
    figure("erasure_items_read_per_item", round(meter.items_read / max(erased_items, 1), 2), target_max=2,
           items_read=meter.items_read, items_of_person=erased_items, other_items=others,
           scans=meter.operations.get("Scan", 0), ddb_calls=meter.calls, by_operation=dict(meter.operations),
           worker=summary, receipt=erased, fill_seconds=round(fill_s, 1))
