"""Cross-table batches: one BatchGetItem or BatchWriteItem for items of several models.

PynamoDB batches one model at a time; a lead submission touches four tables, and each extra
round trip is latency on a phone's connection. Unprocessed items are retried with backoff.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from typing import Any

from chalicelib.config import get_settings
from chalicelib.store.base import LeadVaultModel

BATCH_WRITE_LIMIT = 25
MAX_ATTEMPTS = 8


class BatchIncomplete(RuntimeError):
    """DynamoDB kept items unprocessed after every retry (sustained throttling)."""


# One connection per endpoint (region, host, local credentials): tests and local runs may switch.
_CONNECTIONS: dict[tuple[str, str | None, str | None], Any] = {}


def _client() -> Any:
    """The DynamoDB client of this call's endpoint, configured as PynamoDB configures its models' own.

    Built from the settings (as :func:`chalicelib.store.binding.bind_tables` binds the models), not
    borrowed from a model, so batching depends on no table; rebuilt only when the endpoint changes.
    """
    from pynamodb.connection import Connection

    from chalicelib.store.binding import local_credential

    settings = get_settings()
    credential = local_credential(settings)
    wanted = (settings.region, settings.dynamodb_endpoint_url, credential)
    connection = _CONNECTIONS.get(wanted)
    if connection is None:
        connection = _CONNECTIONS[wanted] = Connection(region=settings.region, host=settings.dynamodb_endpoint_url,
                                                       aws_access_key_id=credential, aws_secret_access_key=credential)
    return connection.client


def _backoff(attempt: int) -> None:
    time.sleep(min(2.0, 0.025 * (2**attempt)) * random.uniform(0.5, 1.0))


def write_all(puts: Sequence[LeadVaultModel] = (), deletes: Sequence[LeadVaultModel] = ()) -> int:
    """Put and delete items of any tables in batches of 25; returns the number of calls made."""
    requests: list[tuple[str, dict[str, Any]]] = [
        (item.Meta.table_name, {"PutRequest": {"Item": item.serialize()}}) for item in puts
    ]
    for item in deletes:
        key = {name: value for name, value in item.serialize(null_check=False).items() if name in _key_names(item)}
        requests.append((item.Meta.table_name, {"DeleteRequest": {"Key": key}}))
    calls = 0
    for start in range(0, len(requests), BATCH_WRITE_LIMIT):
        pending: dict[str, list[dict[str, Any]]] = {}
        for table, request in requests[start : start + BATCH_WRITE_LIMIT]:
            pending.setdefault(table, []).append(request)
        for attempt in range(MAX_ATTEMPTS):
            answer = _client().batch_write_item(RequestItems=pending, ReturnConsumedCapacity="TOTAL")
            calls += 1
            pending = answer.get("UnprocessedItems") or {}
            if not pending:
                break
            _backoff(attempt)
        else:
            raise BatchIncomplete("items stayed unprocessed")
    return calls


def get_all(keys: Sequence[tuple[type[LeadVaultModel], str]]) -> dict[str, LeadVaultModel]:
    """Strongly consistent reads by hash key across tables; answers ``{hash value: item}``.

    Each item is built with the model its key was asked with, so two models may share a table.
    """
    model_of: dict[tuple[str, str], type[LeadVaultModel]] = {}
    request: dict[str, dict[str, Any]] = {}
    for model, hash_value in keys:
        table, hash_name = model.Meta.table_name, model._hash_key_attribute().attr_name
        if (table, hash_value) in model_of:
            continue
        model_of[(table, hash_value)] = model
        request.setdefault(table, {"Keys": [], "ConsistentRead": True})["Keys"].append({hash_name: {"S": hash_value}})
    found: dict[str, LeadVaultModel] = {}
    for attempt in range(MAX_ATTEMPTS):
        answer = _client().batch_get_item(RequestItems=request, ReturnConsumedCapacity="TOTAL")
        for table, items in answer.get("Responses", {}).items():
            for item in items:
                model = next(m for (t, h), m in model_of.items() if t == table and _hash_of(m, item) == h)
                found[_hash_of(model, item)] = model.from_raw_data(item)
        request = answer.get("UnprocessedKeys") or {}
        if not request:
            return found
        _backoff(attempt)
    raise BatchIncomplete("keys stayed unprocessed")


def _hash_of(model: type[LeadVaultModel], item: dict[str, Any]) -> str:
    return str(item[model._hash_key_attribute().attr_name]["S"])


def _key_names(item: LeadVaultModel) -> set[str]:
    names = {item._hash_key_attribute().attr_name}
    range_key = item._range_key_attribute()
    if range_key is not None:
        names.add(range_key.attr_name)
    return names


def execute_statements(statements: Sequence[dict[str, Any]]) -> list[int]:
    """Run PartiQL statements 25 a call; returns the indexes refused by their condition."""
    refused: list[int] = []
    for start in range(0, len(statements), BATCH_WRITE_LIMIT):
        chunk = list(statements[start : start + BATCH_WRITE_LIMIT])
        answer = _client().batch_execute_statement(Statements=chunk, ReturnConsumedCapacity="TOTAL")
        for offset, response in enumerate(answer.get("Responses", [])):
            error = response.get("Error")
            if not error:
                continue
            if error.get("Code") in ("ConditionalCheckFailed", "ConditionalCheckFailedException"):
                refused.append(start + offset)
            else:
                raise BatchIncomplete(f"statement failed: {error.get('Code')}")
    return refused
