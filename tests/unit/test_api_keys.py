"""Tenants and API keys: random, hashed, shown once, scoped, revocable at once."""

from __future__ import annotations

import base64
import hashlib

import pytest

from tests.support.http import assert_error, bearer, body_of
from tests.support.tables import dump_text, scan_everything


def test_issued_key_authenticates_and_names_its_tenant_and_role(client, issue_key, tenant):
    answer = issue_key("agent", agent_id="field-7")
    response = client.http.get("/v1/me", headers=bearer(answer))
    assert response.status_code == 200
    assert body_of(response) == {"key_id": answer["key_id"], "tenant_id": tenant, "role": "agent",
                                 "agent_id": "field-7"}


def test_keys_are_random_with_at_least_128_bits_and_never_repeat(issue_key):
    keys = [issue_key("admin")["api_key"] for _ in range(5)]
    assert len(set(keys)) == 5
    secret = keys[0].split(".")[3]
    assert len(base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))) * 8 >= 128


def test_the_table_holds_only_a_hash_of_the_secret(issue_key):
    answer = issue_key("admin")
    secret = answer["api_key"].split(".")[3]
    text = dump_text(scan_everything())
    assert secret not in text
    assert answer["api_key"] not in text
    assert hashlib.sha256(secret.encode()).hexdigest() not in text  # not even as hex; stored as bytes


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Basic abc", "Bearer lv.ten_0000000000000000.key_00000000000000000000.nope",
     "Bearer lv.bad.bad.bad", "Bearer " + "x" * 5000, "Bearer lv.key_00000000000000000000.a.b",
     "Bearer lv.ten_0000000000000000.key_00000000000000000000.a.b"],
)
def test_missing_malformed_or_unknown_keys_are_401(client, tables, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    assert_error(client.http.get("/v1/me", headers=headers), 401, "unauthorized")


def test_a_right_key_id_with_a_wrong_secret_is_401(client, issue_key):
    answer = issue_key("admin")
    _, tenant_id, key_id, _secret = answer["api_key"].split(".")
    forged = {"api_key": f"lv.{tenant_id}.{key_id}.{'A' * 43}"}
    assert_error(client.http.get("/v1/me", headers=bearer(forged)), 401, "unauthorized")


def test_revoked_key_is_refused_at_once(client, issue_key, operator, tenant):
    answer = issue_key("admin")
    assert client.http.get("/v1/me", headers=bearer(answer)).status_code == 200
    assert operator("admin_revoke_api_key", {"tenant_id": tenant, "key_id": answer["key_id"]}) == {"revoked": True}
    assert_error(client.http.get("/v1/me", headers=bearer(answer)), 401, "unauthorized")


def test_revoking_twice_is_harmless(issue_key, operator, tenant):
    key_id = issue_key("agent", agent_id="asha")["key_id"]
    for _ in range(2):
        assert operator("admin_revoke_api_key", {"tenant_id": tenant, "key_id": key_id}) == {"revoked": True}


def test_a_key_presented_under_another_tenant_is_401(client, issue_key, operator):
    other = operator("admin_create_tenant", {"name": "Other", "default_region": "GB"})["tenant_id"]
    _, _tenant_id, key_id, secret = issue_key("admin")["api_key"].split(".")
    moved = {"api_key": f"lv.{other}.{key_id}.{secret}"}
    assert_error(client.http.get("/v1/me", headers=bearer(moved)), 401, "unauthorized")


def test_another_tenant_cannot_revoke_a_key(issue_key, operator, client):
    other = operator("admin_create_tenant", {"name": "Other", "default_region": "GB"})["tenant_id"]
    answer = issue_key("admin")
    result = operator("admin_revoke_api_key", {"tenant_id": other, "key_id": answer["key_id"]})
    assert result["error"]["code"] == "not_found"
    assert client.http.get("/v1/me", headers=bearer(answer)).status_code == 200


def test_widget_key_with_origins_is_refused_from_elsewhere(client, issue_key):
    answer = issue_key("widget", allowed_origins=["https://shop.example.com"])
    ok = client.http.get("/v1/me", headers=bearer(answer, Origin="https://shop.example.com"))
    assert ok.status_code == 200
    assert_error(client.http.get("/v1/me", headers=bearer(answer, Origin="https://evil.example")), 403, "forbidden")
    assert_error(client.http.get("/v1/me", headers=bearer(answer)), 403, "forbidden")


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"role": "root"}, "role"),
     ({"role": "widget", "allowed_origins": ["ftp://x.example"]}, "allowed_origins"),
     ({"role": "widget", "allowed_origins": ["http://plain.example"]}, "allowed_origins"),
     ({"role": "admin", "allowed_origins": ["https://x.example"]}, "(body)"),
     ({"role": "agent", "email": "not-an-email"}, "email"),
     ({"role": "agent", "agent_id": "has space"}, "agent_id"),
     ({"role": "agent", "extra": 1}, "extra")],
)
def test_bad_issue_payloads_name_the_field_and_store_nothing(operator, tenant, payload, field):
    before = sum(len(items) for items in scan_everything().values())
    result = operator("admin_issue_api_key", {"tenant_id": tenant, **payload})
    assert result["error"]["code"] == "validation_error"
    assert field in [detail["field"] for detail in result["error"]["details"]]
    dump = scan_everything()
    assert sum(len(items) for items in dump.values()) == before
    assert not [item for name, items in dump.items() if name.endswith("api_keys") for item in items]


def test_issuing_for_an_unknown_tenant_is_not_found(operator, tables):
    for tenant_id in ("ten_0000000000000000", "../etc", "ten_" + "é" * 16):
        result = operator("admin_issue_api_key", {"tenant_id": tenant_id, "role": "admin"})
        assert result["error"]["code"] == "not_found"
