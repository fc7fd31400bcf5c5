"""Creating the tables (idempotent): on-demand billing, TTL on ``expires_at``, the event log's stream, and
every index the models declare.

PynamoDB creates a table with the stream its model's ``Meta.stream_view_type`` names (DynamoDB Local
serves streams too); a table made before it had one gets it here, as the deployed template gives it.
Likewise a table made before one of its model's global secondary indexes gets the index here, so a
local data directory from an older release keeps working (deployed stages get theirs from the template).
An index the model no longer declares is left alone and logged: dropping one is an operator's decision.
On DynamoDB Local, TTL is paused while indexes are added (see :func:`_local_expiry_sweeps_paused`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from chalicelib.logs import get_logger
from chalicelib.store.base import LeadVaultModel
from chalicelib.store.binding import all_models, bind_tables

INDEXES_ADDED = "indexes added"
INDEX_WAIT_S = 1200.0  # on AWS an index over a large table back-fills for minutes
POLL_S = 0.5


def create_tables() -> dict[str, str]:
    """Create every missing table (and its TTL), bring existing ones' streams and indexes up to their models;
    report what each table's state was: ``created``, ``exists``, or what was done
    (``stream enabled``, ``indexes added: <names>``, both joined by ``; ``)."""
    bind_tables()
    done: dict[str, list[str]] = {}
    lacking: list[type[LeadVaultModel]] = []
    for model in all_models():
        name = model.Meta.table_name
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
            done[name] = ["created"]
            continue
        done[name] = ["stream enabled"] if _enable_stream(model) else []
        if missing_indexes(model):
            lacking.append(model)
    if lacking:
        with _local_expiry_sweeps_paused():
            for model in lacking:
                done[model.Meta.table_name].append(f"{INDEXES_ADDED}: {', '.join(add_missing_indexes(model))}")
    return {name: "; ".join(states) or "exists" for name, states in done.items()}


def indexes_were_added(report: dict[str, str]) -> bool:
    """Whether a :func:`create_tables` report says an index was added (items written before may need a reindex)."""
    return any(INDEXES_ADDED in state for state in report.values())


def _enable_stream(model: type[LeadVaultModel]) -> bool:
    """Give an existing table the stream its model asks for; False when it has it (or asks for none)."""
    wanted = getattr(model.Meta, "stream_view_type", None)
    if not wanted:
        return False
    connection = model._get_connection()
    if (connection.describe_table().get("StreamSpecification") or {}).get("StreamEnabled"):
        return False
    connection.connection.client.update_table(
        TableName=model.Meta.table_name, StreamSpecification={"StreamEnabled": True, "StreamViewType": wanted})
    return True


def add_missing_indexes(model: type[LeadVaultModel], wait_s: float = INDEX_WAIT_S) -> list[str]:
    """Create each global secondary index the model declares and its table lacks, one at a time (DynamoDB takes
    one index per UpdateTable), each ACTIVE before the next; the names added, in the model's order."""
    client = model._get_connection().connection.client
    table = model.Meta.table_name
    existing, declared = _indexes(model)
    _log_differences(table, existing, declared)
    added = []
    for name, index in declared.items():
        if name in existing:
            continue
        _wait_until_active(client, table, None, wait_s)  # the table, and any index still back-filling
        client.update_table(
            TableName=table, AttributeDefinitions=index["attribute_definitions"],
            GlobalSecondaryIndexUpdates=[{"Create": {
                "IndexName": name, "KeySchema": index["key_schema"], "Projection": index["projection"]}}])
        _wait_until_active(client, table, name, wait_s)
        get_logger().info("table_index_added", extra={"table": table, "index": name})
        added.append(name)
    return added


def missing_indexes(model: type[LeadVaultModel]) -> list[str]:
    """The global secondary indexes the model declares and its (existing) table lacks."""
    existing, declared = _indexes(model)
    return [name for name in declared if name not in existing]


def _indexes(model: type[LeadVaultModel]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The table's global secondary indexes as described, and the model's as declared, by name."""
    client = model._get_connection().connection.client
    existing = {index["IndexName"]: index
                for index in _describe(client, model.Meta.table_name).get("GlobalSecondaryIndexes", [])}
    declared = {index["index_name"]: {**index, "key_schema": _hash_first(index["key_schema"])}
                for index in model._get_schema()["global_secondary_indexes"]}
    return existing, declared


@contextmanager
def _local_expiry_sweeps_paused() -> Iterator[None]:
    """On a configured endpoint (DynamoDB Local), TTL is off on its tables while indexes are added, then on again.

    DynamoDB Local never finishes an index added while more than ten of its tables have TTL on (it stays
    ``CREATING`` and the table stops answering); the app's tables are sixteen. AWS itself has no such limit,
    and its tables' TTL is never touched."""
    from chalicelib.config import get_settings

    if not get_settings().dynamodb_endpoint_url:
        yield
        return
    from chalicelib.store.models.tenants import TenantRecord

    client = TenantRecord._get_connection().connection.client
    paused: dict[str, str] = {}
    for page in client.get_paginator("list_tables").paginate():
        for table in page["TableNames"]:
            ttl = client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
            if ttl.get("TimeToLiveStatus") == "ENABLED":
                client.update_time_to_live(TableName=table, TimeToLiveSpecification={
                    "Enabled": False, "AttributeName": ttl["AttributeName"]})
                paused[table] = ttl["AttributeName"]
    get_logger().info("local_expiry_sweeps_paused", extra={"tables": len(paused)})
    try:
        yield
    finally:
        for table, attribute in paused.items():
            client.update_time_to_live(TableName=table, TimeToLiveSpecification={
                "Enabled": True, "AttributeName": attribute})


def _log_differences(table: str, existing: dict[str, Any], declared: dict[str, Any]) -> None:
    """Say which of the table's indexes no model declares, or have other keys than declared (never changed here)."""
    undeclared = sorted(set(existing) - set(declared))
    if undeclared:
        get_logger().warning("table_index_not_declared", extra={
            "table": table, "indexes": undeclared, "action": "kept; delete it with UpdateTable if nothing uses it"})
    for name in sorted(set(existing) & set(declared)):
        if _hash_first(existing[name]["KeySchema"]) != declared[name]["key_schema"]:
            get_logger().warning("table_index_differs", extra={
                "table": table, "index": name, "action": "kept; delete it and run init again to rebuild it"})


def _hash_first(key_schema: list[dict[str, str]]) -> list[dict[str, str]]:
    """DynamoDB takes an index's hash key first (PynamoDB lists its keys in attribute order)."""
    return sorted(key_schema, key=lambda element: element["KeyType"])


def _describe(client: Any, table: str) -> dict[str, Any]:
    return client.describe_table(TableName=table)["Table"]


def _wait_until_active(client: Any, table: str, index: str | None, wait_s: float) -> None:
    """Until the table and every index of it (or ``index``, when named) is ACTIVE; TimeoutError past ``wait_s``."""
    deadline = time.monotonic() + wait_s
    while True:
        described = _describe(client, table)
        indexes = described.get("GlobalSecondaryIndexes", [])
        pending = [i["IndexName"] for i in indexes if i.get("IndexStatus") != "ACTIVE"
                   and (index is None or i["IndexName"] == index)]
        if index is not None and index not in {i["IndexName"] for i in indexes}:
            pending.append(index)
        if described.get("TableStatus") == "ACTIVE" and not pending:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"table {table} not ACTIVE after {wait_s:.0f} s (waiting on {pending or 'the table'})")
        time.sleep(POLL_S)
