"""Raw access to every table, as an attacker with a backup would have it."""

from __future__ import annotations

import os
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
