"""A widget key and its origins' CORS index entries are written together: a process killed at any write
of issuing or revoking leaves both or neither (issue 14, point 7)."""

from __future__ import annotations

from typing import Any

import botocore.client
import pytest

SHOP = "https://shop.example.com"
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")


class Killed(BaseException):
    """The Lambda killed mid-run: no ``except Exception`` in the code sees it."""


def _tables(params: dict[str, Any]) -> set[str]:
    names = set(params.get("RequestItems", {}))
    names |= {request["TableName"] for item in params.get("TransactItems", []) for request in item.values()}
    if "TableName" in params:
        names.add(params["TableName"])
    return names


@pytest.fixture
def kill_at(monkeypatch):
    """Kill the process at the first write that touches a table whose name ends with the given suffix."""
    make_api_call = botocore.client.BaseClient._make_api_call

    def arm(suffix: str) -> None:
        def call(client: Any, operation: str, params: dict[str, Any]) -> Any:
            if operation in WRITES and any(name.endswith(suffix) for name in _tables(params)):
                monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", make_api_call)
                raise Killed(operation)
            return make_api_call(client, operation, params)

        monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", call)

    return arm


def preflight(client, origin: str = SHOP):
    return client.http.request("OPTIONS", "/v1/leads", headers={"Origin": origin,
                                                                "Access-Control-Request-Method": "POST"})


def state(key_id: str | None = None) -> tuple[list[str], list[str]]:
    """(ids of every API key stored, key ids the CORS index holds for SHOP)."""
    from chalicelib import invocation
    from chalicelib.store.models.api_keys import ApiKeyRecord
    from chalicelib.store.models.claims import CorsOriginRecord

    with invocation.invocation():
        keys = [key.key_id for key in ApiKeyRecord.scan() if key.role == "widget" and key.revoked_at is None]
        try:
            indexed = sorted(CorsOriginRecord.get(f"cors#{SHOP}").key_ids or [])
        except CorsOriginRecord.DoesNotExist:
            indexed = []
    return keys, indexed


@pytest.mark.parametrize("suffix", ["api_keys", "unique_keys"])
def test_a_key_issue_killed_at_any_write_leaves_no_index_entry_without_its_key(client, operator, tenant, kill_at,
                                                                              suffix):
    kill_at(suffix)
    with pytest.raises(Killed):
        operator("admin_issue_api_key", {"tenant_id": tenant, "role": "widget", "allowed_origins": [SHOP]})
    assert state() == ([], [])
    assert preflight(client).status_code == 403
    issued = operator("admin_issue_api_key", {"tenant_id": tenant, "role": "widget", "allowed_origins": [SHOP]})
    assert state() == ([issued["key_id"]], [issued["key_id"]])
    assert preflight(client).status_code == 204


@pytest.mark.parametrize("suffix", ["api_keys", "unique_keys"])
def test_a_revocation_killed_at_any_write_leaves_the_key_live_and_indexed_or_neither(client, operator, tenant,
                                                                                     kill_at, suffix):
    issued = operator("admin_issue_api_key", {"tenant_id": tenant, "role": "widget", "allowed_origins": [SHOP]})
    revoke = {"tenant_id": tenant, "key_id": issued["key_id"]}
    kill_at(suffix)
    with pytest.raises(Killed):
        operator("admin_revoke_api_key", revoke)
    assert state() == ([issued["key_id"]], [issued["key_id"]])
    assert preflight(client).status_code == 204
    assert operator("admin_revoke_api_key", revoke) == {"revoked": True}
    assert state() == ([], [])
    assert preflight(client).status_code == 403


def test_a_key_whose_id_is_taken_indexes_nothing(client, operator, tenant, monkeypatch):
    import secrets

    first = operator("admin_issue_api_key", {"tenant_id": tenant, "role": "widget",
                                             "allowed_origins": ["https://other.example.com"]})
    monkeypatch.setattr(secrets, "token_hex", lambda n: first["key_id"].removeprefix("key_"))
    answer = operator("admin_issue_api_key", {"tenant_id": tenant, "role": "widget", "allowed_origins": [SHOP]})
    assert "error" in answer
    assert state() == ([first["key_id"]], [])
    assert preflight(client).status_code == 403
