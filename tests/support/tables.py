"""Raw access to every table, as an attacker with a backup would have it; emptying tables between tests."""

from __future__ import annotations

import os
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3

from chalicelib.config import get_settings
from chalicelib.store import all_models, bind_tables


def raw_client() -> Any:
    settings = get_settings()
    return boto3.client("dynamodb", region_name=settings.region, endpoint_url=settings.dynamodb_endpoint_url,
                        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "local"),
                        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "local"))


def scan_everything() -> dict[str, list[dict[str, Any]]]:
    """Every item of every table, unparsed."""
    bind_tables()
    client = raw_client()
    dump: dict[str, list[dict[str, Any]]] = {}
    for model in all_models():
        name = model.Meta.table_name
        items: list[dict[str, Any]] = []
        for page in client.get_paginator("scan").paginate(TableName=name):
            items.extend(page["Items"])
        dump[name] = items
    return dump


def dump_text(dump: dict[str, list[dict[str, Any]]]) -> str:
    """Everything scanned, as text and as decoded bytes, to search for plaintext."""
    parts: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                parts.append(str(key))
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, bytes):
            parts.append(value.decode("latin-1"))
        else:
            parts.append(str(value))

    walk(dump)
    return "\n".join(parts)


_KEYS: dict[tuple[str | None, str], list[str]] = {}


def key_attributes(client: Any, name: str) -> list[str]:
    """The key attribute names of a table (asked once per endpoint and table)."""
    cache_key = (client.meta.endpoint_url, name)
    if cache_key not in _KEYS:
        schema = client.describe_table(TableName=name)["Table"]["KeySchema"]
        _KEYS[cache_key] = [element["AttributeName"] for element in schema]
    return _KEYS[cache_key]


def ready_tables(made: dict[str, str]) -> dict[str, str]:
    """The session's tables on DynamoDB Local, every one empty: made on first use (or when one went
    missing), emptied since. ``made`` is the session's record of what making each did.

    The chaos and integration tests keep records of their own but share one engine and one prefix,
    so a record's first use may find the tables made, and written, by the other: those are emptied too.
    """
    from chalicelib.store.schema import create_tables

    if made and not empty_tables(made):
        return dict(made)
    found = create_tables()
    if not made and any(state != "created" for state in found.values()):
        empty_tables(found)
    if not made:
        stop_expiry_sweeps(found)
    for name, state in found.items():
        made.setdefault(name, state)
    return dict(made)


def stop_expiry_sweeps(names: Collection[str]) -> None:
    """Turn DynamoDB Local's TTL sweep off for the session's tables.

    Tests pin the app's clock (``LEADVAULT_NOW``) to fixed dates, so what they write expires by that
    clock, while the engine sweeps (about every 10 s) by the real one: a budget counter or a one-time
    code written "a day ahead" of a past date would vanish mid-test. The app never relies on the sweep
    (the purge deletes what is due), and test_storage_on_dynamodb_local checks that making the tables
    turns TTL on, on tables of its own.
    """
    client = raw_client()
    for name in names:
        if client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]["TimeToLiveStatus"] == "DISABLED":
            continue
        client.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": False,
                                                                             "AttributeName": "expires_at"})


def empty_tables(names: Collection[str]) -> set[str]:
    """Delete every item of the named tables and every other table; return the named ones missing.

    For DynamoDB Local, where the tables of a session outlive its tests (moto has a faster way:
    tests/support/moto_state.py). Deletes go 25 at a time, several batches at once.
    """
    client = raw_client()
    existing = {name for page in client.get_paginator("list_tables").paginate() for name in page["TableNames"]}
    for name in existing - set(names):
        client.delete_table(TableName=name)
    batches: list[dict[str, list[dict[str, Any]]]] = []
    for name in existing & set(names):
        keys = key_attributes(client, name)
        projection = {"ProjectionExpression": ", ".join(f"#k{i}" for i in range(len(keys))),
                      "ExpressionAttributeNames": {f"#k{i}": key for i, key in enumerate(keys)}}
        for page in client.get_paginator("scan").paginate(TableName=name, **projection):
            items = page["Items"]
            batches += [{name: [{"DeleteRequest": {"Key": item}} for item in items[start:start + 25]]}
                        for start in range(0, len(items), 25)]

    def delete(pending: dict[str, list[dict[str, Any]]]) -> None:
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(delete, batches))
    return set(names) - existing
