"""The foundation on AWS's own engine: tables, TTL, keys, revocation, sealed data."""

from __future__ import annotations

import pytest

from chalicelib.store import all_models
from chalicelib.store.schema import create_tables
from tests.support.http import assert_error, bearer, body_of
from tests.support.people import EMAIL, PLAINTEXT_MARKERS
from tests.support.tables import dump_text, raw_client, scan_everything

pytestmark = pytest.mark.integration


def test_init_creates_every_table_once_with_ttl_on_expires_at(dynamodb_local, monkeypatch):
    # Tables of this test's own prefix (not the session's, which other tests of the engine made first).
    monkeypatch.setenv("DYNAMODB_ENDPOINT_URL", dynamodb_local.endpoint)
    assert set(create_tables().values()) == {"created"}
    assert set(create_tables().values()) == {"exists"}
    client = raw_client()
    for model in all_models():
        ttl = client.describe_time_to_live(TableName=model.Meta.table_name)["TimeToLiveDescription"]
        assert ttl["TimeToLiveStatus"] == "ENABLED", model.Meta.table_name
        assert ttl["AttributeName"] == "expires_at"
        described = client.describe_table(TableName=model.Meta.table_name)["Table"]
        assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_key_lifecycle_on_the_real_engine(client, operator):
    tenant = operator("admin_create_tenant", {"name": "Real Engine", "default_region": "IN"})["tenant_id"]
    answer = operator("admin_issue_api_key",
                      {"tenant_id": tenant, "role": "agent", "agent_id": "field-7", "email": EMAIL})
    response = client.http.get("/v1/me", headers=bearer(answer))
    assert response.status_code == 200 and body_of(response)["tenant_id"] == tenant
    operator("admin_revoke_api_key", {"tenant_id": tenant, "key_id": answer["key_id"]})
    assert_error(client.http.get("/v1/me", headers=bearer(answer)), 401, "unauthorized")


def test_raw_scan_holds_no_plaintext_identifier(client, operator):
    tenant = operator("admin_create_tenant", {"name": "Scan Co", "default_region": "IN"})["tenant_id"]
    answer = operator("admin_issue_api_key", {"tenant_id": tenant, "role": "admin", "email": EMAIL})
    assert client.http.get("/v1/me", headers=bearer(answer)).status_code == 200
    dump = scan_everything()
    assert sum(len(items) for items in dump.values()) >= 4
    text = dump_text(dump).lower()
    for marker in PLAINTEXT_MARKERS:
        assert marker.lower() not in text, marker
