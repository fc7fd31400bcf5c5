"""The event log on AWS's own engine: the events table has its stream, and a change's event arrives on it."""

from __future__ import annotations

import os
from typing import Any

import boto3
import pytest

from chalicelib.config import get_settings
from chalicelib.store.models.events import EventRecord
from chalicelib.store.schema import create_tables
from tests.support.leads import lead_body, post_lead
from tests.support.people import PLAINTEXT_MARKERS
from tests.support.tables import raw_client

pytestmark = pytest.mark.integration


def streams_client() -> Any:
    settings = get_settings()
    return boto3.client("dynamodbstreams", region_name=settings.region, endpoint_url=settings.dynamodb_endpoint_url,
                        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "local"),
                        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "local"))


def stream_records(stream_arn: str) -> list[dict[str, Any]]:
    """Every record the stream holds now, every shard read from its start."""
    streams = streams_client()
    records: list[dict[str, Any]] = []
    shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
    for shard in shards:
        iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            records += page["Records"]
            if not page["Records"]:
                break  # an open shard hands out iterators for ever: stop at its end for now
            iterator = page.get("NextShardIterator")
    return records


def test_the_events_table_has_a_new_image_stream(tables):
    described = raw_client().describe_table(TableName=EventRecord.Meta.table_name)["Table"]
    assert described["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert described["LatestStreamArn"]
    assert {index["IndexName"] for index in described["GlobalSecondaryIndexes"]} == {"by_tenant"}


def test_a_new_leads_event_appears_on_the_stream(client, widget, tenant):
    lead_id = post_lead(client, widget, lead_body()).json_body["lead_id"]
    arn = raw_client().describe_table(TableName=EventRecord.Meta.table_name)["Table"]["LatestStreamArn"]
    inserted = [record["dynamodb"]["NewImage"] for record in stream_records(arn) if record["eventName"] == "INSERT"]
    ours = [EventRecord.from_raw_data(image) for image in inserted if image["tenant_id"]["S"] == tenant]
    assert [(event.type, event.data.as_dict()) for event in ours] == [
        ("lead.created", {"lead_id": lead_id, "source": "web"})]
    assert ours[0].event_id.startswith("evt_") and ours[0].expires_at
    text = str(inserted)
    for marker in PLAINTEXT_MARKERS:
        assert marker not in text, marker


def test_a_table_made_before_its_stream_gets_it(dynamodb_local, monkeypatch):
    # This test's own prefix: the events table made as it was before the event log had a stream.
    monkeypatch.setenv("DYNAMODB_ENDPOINT_URL", dynamodb_local.endpoint)
    from chalicelib.store.binding import bind_tables

    bind_tables()
    raw_client().create_table(
        TableName=EventRecord.Meta.table_name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "event_id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "event_id", "KeyType": "HASH"}])
    report = create_tables()
    assert report[EventRecord.Meta.table_name] == "stream enabled; indexes added: by_tenant"  # made without either
    described = raw_client().describe_table(TableName=EventRecord.Meta.table_name)["Table"]
    assert described["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert create_tables()[EventRecord.Meta.table_name] == "exists"
