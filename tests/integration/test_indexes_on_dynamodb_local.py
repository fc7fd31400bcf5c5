"""A data directory from an older release on AWS's own engine: ``init`` adds the indexes its tables lack (one at
a time, each ACTIVE before the next, as DynamoDB requires), and ``reindex`` lists what was written before.

The run makes fourteen tables with TTL first: with more than ten, DynamoDB Local wedges an index being added
unless ``init`` pauses TTL meanwhile."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import invocation
from chalicelib.store.schema import create_tables
from tests.support.tables import raw_client

pytestmark = pytest.mark.integration

FILED = datetime(2026, 3, 1, 10, 0, 0, tzinfo=UTC)
REQUEST_ID = "prq_" + "a1" * 16
ALL = {"ProjectionType": "ALL"}


def keys(hash_key: str, range_key: str) -> list[dict[str, str]]:
    return [{"AttributeName": hash_key, "KeyType": "HASH"}, {"AttributeName": range_key, "KeyType": "RANGE"}]


def make_old_tables(client, leads: str, requests: str) -> None:
    """The leads and privacy requests tables as the release before made them."""
    def strings(*names):
        return [{"AttributeName": name, "AttributeType": "S"} for name in names]

    client.create_table(
        TableName=leads, BillingMode="PAY_PER_REQUEST", AttributeDefinitions=strings("lead_id", "list_pk", "list_sk",
                                                                                     "agent_pk"),
        KeySchema=[{"AttributeName": "lead_id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[{"IndexName": name, "KeySchema": keys(hash_key, "list_sk"), "Projection": ALL}
                                for name, hash_key in (("by_tenant", "list_pk"), ("by_agent", "agent_pk"))])
    client.create_table(
        TableName=requests, BillingMode="PAY_PER_REQUEST", AttributeDefinitions=strings("request_id", "work_pk",
                                                                                        "work_sk"),
        KeySchema=[{"AttributeName": "request_id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[{"IndexName": "open_requests", "KeySchema": keys("work_pk", "work_sk"),
                                 "Projection": {"ProjectionType": "KEYS_ONLY"}}])
    for table in (leads, requests):
        client.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True,
                                                                             "AttributeName": "expires_at"})


def test_init_brings_an_older_data_directory_up_to_the_models(dynamodb_local, monkeypatch):
    monkeypatch.setenv("DYNAMODB_ENDPOINT_URL", dynamodb_local.endpoint)
    from chalicelib.services.rights.reindex import reindex_requests
    from chalicelib.store.binding import bind_tables
    from chalicelib.store.models.leads import LeadRecord
    from chalicelib.store.models.privacy import PrivacyRequestRecord

    bind_tables()
    leads, requests = LeadRecord.Meta.table_name, PrivacyRequestRecord.Meta.table_name
    client = raw_client()
    make_old_tables(client, leads, requests)
    # A request filed by the release before: on the work queue, not in any tenant list.
    PrivacyRequestRecord(REQUEST_ID, tenant_id="ten_old", type="access", status="verified", channel="api",
                         identifier_ref="email:ref", created_by_key_id="key_x", created_at=FILED,
                         due_at=FILED + timedelta(days=30), work_pk="work#1", work_sk="x").save()

    report = create_tables()
    assert report[leads] == "indexes added: by_activity, by_agent_activity"
    assert report[requests] == "indexes added: tenant_requests"
    for table, wanted in ((leads, {"by_tenant", "by_agent", "by_activity", "by_agent_activity"}),
                          (requests, {"open_requests", "tenant_requests"})):
        indexes = client.describe_table(TableName=table)["Table"]["GlobalSecondaryIndexes"]
        assert {index["IndexName"] for index in indexes} == wanted  # by_agent is kept
        assert {index["IndexStatus"] for index in indexes} == {"ACTIVE"}
    # TTL, paused on the engine while the indexes were added (it wedges index creation there), is back on.
    for table in report:
        assert client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"

    with invocation.invocation():
        assert list(LeadRecord.by_activity.query("ten_old#0")) == []  # the new index answers
        assert list(PrivacyRequestRecord.tenant_requests.query("ten_old#open")) == []  # not listed yet
        assert reindex_requests() == 1
        assert reindex_requests() == 0
        listed = list(PrivacyRequestRecord.tenant_requests.query("ten_old#open"))
    assert [item.request_id for item in listed] == [REQUEST_ID]
    assert listed[0].list_sk.startswith("2026-03-31T10:00:00")
    assert set(create_tables().values()) == {"exists"}
