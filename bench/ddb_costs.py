"""DynamoDB calls and consumed capacity per operation, on DynamoDB Local (real capacity figures)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import Any

from bench.ddb_meter import install, metered
from bench.report import figure
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
    payload = {"tenant_id": tenant["tenant_id"], "role": "admin"}
    invoke_operator("admin_issue_api_key", payload, LocalContext("warm-up"))
    key = measure("issue_api_key", lambda: invoke_operator("admin_issue_api_key", payload, LocalContext("b")))
    with Client(app.app, stage_name="test") as client:
        headers = {"Authorization": f"Bearer {key['api_key']}"}
        response = measure("authenticated_request", lambda: client.http.get("/v1/me", headers=headers))
        assert response.status_code == 200, response.body
