"""Cross-table batches: one BatchGetItem or BatchWriteItem for items of several models.

PynamoDB batches one model at a time; a lead submission touches four tables, and each extra
round trip is latency on a phone's connection. Unprocessed items and keys, and PartiQL statements that
failed on their own (throttled, conflicting), are retried with backoff, each alone: what applied is never
sent again.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from chalicelib.config import get_settings
from chalicelib.store.base import LeadVaultModel

Item = TypeVar("Item", bound=LeadVaultModel)

BATCH_WRITE_LIMIT = 25
BATCH_GET_LIMIT = 100
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
    100 keys a call (DynamoDB's limit); unprocessed keys are asked again with backoff.
    """
    model_of: dict[tuple[str, str], type[LeadVaultModel]] = {}
    hash_name: dict[str, str] = {}  # a table's hash key (models sharing a table share it)
    for model, hash_value in keys:
        model_of.setdefault((model.Meta.table_name, hash_value), model)
        hash_name[model.Meta.table_name] = model._hash_key_attribute().attr_name

    def built(table: str, item: dict[str, Any]) -> type[LeadVaultModel]:
        return model_of[(table, str(item[hash_name[table]]["S"]))]

    found: dict[str, LeadVaultModel] = {}
    wanted = list(model_of)
    for start in range(0, len(wanted), BATCH_GET_LIMIT):
        request: dict[str, dict[str, Any]] = {}
        for table, hash_value in wanted[start : start + BATCH_GET_LIMIT]:
            request.setdefault(table, {"Keys": [], "ConsistentRead": True})["Keys"].append(
                {hash_name[table]: {"S": hash_value}})
        for item, model in _read_batch(request, built):
            found[_hash_of(model, item)] = model.from_raw_data(item)
    return found


def get_items(model: type[Item], keys: Sequence[tuple[str, str]]) -> list[Item]:
    """Strongly consistent reads of one model's items by ``(hash, range)`` key, 100 a call, unprocessed keys
    asked again with backoff (PynamoDB's ``batch_get`` asks again at once, without end)."""
    hash_name, range_attribute = model._hash_key_attribute().attr_name, model._range_key_attribute()
    if range_attribute is None:
        raise ValueError("get_items reads items with a range key; get_all reads the others")
    table = model.Meta.table_name
    found: list[Item] = []
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), BATCH_GET_LIMIT):
        request = {table: {"ConsistentRead": True, "Keys": [
            {hash_name: {"S": hash_value}, range_attribute.attr_name: {"S": range_value}}
            for hash_value, range_value in unique[start : start + BATCH_GET_LIMIT]]}}
        found += [model.from_raw_data(item) for item, _ in _read_batch(request, lambda _table, _item: model)]
    return found


def _read_batch(
    request: dict[str, dict[str, Any]], model_of: Callable[[str, dict[str, Any]], type[LeadVaultModel]]
) -> list[tuple[dict[str, Any], type[LeadVaultModel]]]:
    """One BatchGetItem request read to the end: every item with its model (``model_of(table, item)``)."""
    read: list[tuple[dict[str, Any], type[LeadVaultModel]]] = []
    for attempt in range(MAX_ATTEMPTS):
        answer = _client().batch_get_item(RequestItems=request, ReturnConsumedCapacity="TOTAL")
        for table, items in answer.get("Responses", {}).items():
            read += [(item, model_of(table, item)) for item in items]
        request = answer.get("UnprocessedKeys") or {}
        if not request:
            return read
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


# Per-statement errors of a BatchExecuteStatement that leave the statement unapplied for now: sent again.
RETRYABLE_STATEMENT_ERRORS = frozenset({
    "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded", "InternalServerError",
    "TransactionConflict",
})
REFUSED_STATEMENT_ERRORS = frozenset({"ConditionalCheckFailed", "ConditionalCheckFailedException"})


def execute_statements(statements: Sequence[dict[str, Any]]) -> list[int]:
    """Run PartiQL statements 25 a call; returns the indexes refused by their condition, in order.

    DynamoDB answers each statement on its own: a throttled (or conflicting, or failed inside) statement
    is sent again with backoff, alone with the others that failed, never the ones that applied. Only a
    statement still failing after :data:`MAX_ATTEMPTS` raises :class:`BatchIncomplete`; one refused by its
    condition is reported by its index in ``statements``. Statements must be idempotent (SET, never ADD):
    one answered InternalServerError may have applied, and is sent again.
    """
    refused: list[int] = []
    for start in range(0, len(statements), BATCH_WRITE_LIMIT):
        pending = list(range(start, min(start + BATCH_WRITE_LIMIT, len(statements))))
        for attempt in range(MAX_ATTEMPTS):
            answer = _client().batch_execute_statement(Statements=[statements[i] for i in pending],
                                                       ReturnConsumedCapacity="TOTAL")
            failed = _statement_failures(pending, answer.get("Responses", []), refused)
            if not failed:
                break
            if attempt == MAX_ATTEMPTS - 1:
                codes = sorted(set(failed.values()))
                raise BatchIncomplete(f"{len(failed)} statements kept failing: {', '.join(codes)}")
            pending = sorted(failed)
            _backoff(attempt)
    return sorted(refused)


def _statement_failures(sent: list[int], responses: list[dict[str, Any]], refused: list[int]) -> dict[int, str]:
    """The statements to send again (index -> error code); refusals are added to ``refused``.

    Raises :class:`BatchIncomplete` for an error no retry can cure (validation, access, missing table).
    """
    if len(responses) != len(sent):
        raise BatchIncomplete(f"{len(responses)} answers to {len(sent)} statements")
    failed: dict[int, str] = {}
    for index, response in zip(sent, responses, strict=True):
        error = response.get("Error")
        if not error:
            continue
        code = str(error.get("Code"))
        if code in REFUSED_STATEMENT_ERRORS:
            refused.append(index)
        elif code in RETRYABLE_STATEMENT_ERRORS:
            failed[index] = code
        else:
            raise BatchIncomplete(f"statement failed: {code}")
    return failed
