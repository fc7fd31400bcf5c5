"""Data from before a release's indexes: ``init`` adds the indexes a table lacks, ``reindex`` fills in the keys
items written before need (privacy requests' tenant list here; leads' activity lists in test_leads_listing), and
``make run`` does both by itself."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import cli, clock, invocation
from chalicelib.jobs import invoke_job
from chalicelib.runtime import LocalContext
from tests.support.http import bearer, body_of
from tests.support.people import EMAIL
from tests.support.tables import raw_client, scan_everything

T0 = datetime(2026, 11, 20, 9, 0, 0, tzinfo=UTC)


@pytest.fixture
def now(monkeypatch):
    def set_now(moment: datetime) -> None:
        monkeypatch.setenv("LEADVAULT_NOW", clock.iso(moment))

    set_now(T0)
    return set_now


@pytest.fixture(autouse=True)
def logs_stay_where_they_were(monkeypatch):
    """``cli.main`` sends the process's logs to stderr; later tests in the worker read them on stdout."""
    from chalicelib import logs

    monkeypatch.setitem(logs._STREAM, "name", logs._STREAM["name"])


def file_request(client, key, **body):
    response = client.http.post("/v1/privacy-requests", body=json.dumps({"type": "access", "email": EMAIL, **body}),
                                headers=bearer(key, **{"Content-Type": "application/json"}))
    assert response.status_code == 202, response.body
    return body_of(response)["request_id"]


def listed(client, admin, status="open"):
    response = client.http.get(f"/v1/privacy-requests?status={status}", headers=bearer(admin))
    assert response.status_code == 200, response.body
    return [item["request_id"] for item in body_of(response)["items"]]


def unlist(*request_ids):
    """Make requests look as the release before wrote them: no place in the tenant's list."""
    from chalicelib.store.models.privacy import PrivacyRequestRecord

    with invocation.invocation():
        for request_id in request_ids:
            PrivacyRequestRecord(request_id).update(actions=[PrivacyRequestRecord.list_pk.remove(),
                                                             PrivacyRequestRecord.list_sk.remove()])


def test_requests_filed_before_the_tenants_list_are_put_back_in_it(client, admin, widget, now):
    from chalicelib.services.rights.reindex import reindex_requests

    now(T0 - timedelta(days=5))
    done = file_request(client, admin, verified_by_admin=True)
    now(T0 - timedelta(days=5, hours=-1))
    assert invoke_job("privacy_worker", LocalContext("privacy_worker", timeout_s=60))["completed"] == 1
    now(T0)
    waiting = file_request(client, widget)  # due T0 + 30 days
    now(T0 - timedelta(days=2))
    verified = file_request(client, admin, verified_by_admin=True, type="erasure")  # due 2 days sooner
    now(T0)
    before = (listed(client, admin), listed(client, admin, "completed"))
    unlist(done, waiting, verified)
    assert (listed(client, admin), listed(client, admin, "completed")) == ([], [])

    with invocation.invocation():
        assert reindex_requests() == 3
        assert reindex_requests() == 0  # nothing left to do
    assert (listed(client, admin), listed(client, admin, "completed")) == before == ([verified, waiting], [done])
    # The export's items share the table and are no requests: left as they were.
    exports = [item for name, items in scan_everything().items() if name.endswith("privacy_requests")
               for item in items if item["request_id"]["S"].startswith("export#")]
    assert exports and not any("list_pk" in item for item in exports)


def test_a_request_closed_while_the_reindex_runs_keeps_its_final_place(client, admin, now):
    """The reindex read it open; it was closed before the reindex wrote: the open place is never written."""
    from chalicelib.store import privacy

    request_id = file_request(client, admin, verified_by_admin=True, type="erasure")
    unlist(request_id)
    with invocation.invocation():
        [stale] = [r for r in privacy.unlisted_requests() if r.request_id == request_id]
        privacy.close(privacy.get(request_id), "rejected", T0 + timedelta(hours=1))
        assert privacy.fill_list_position(stale, privacy.OPEN, stale.due_at) is False
        stored = privacy.get(request_id)
    assert stored.list_pk.endswith("#rejected") and listed(client, admin) == []
    assert listed(client, admin, "rejected") == [request_id]


def test_a_rerun_of_a_placed_request_changes_nothing(client, admin):
    """Conditional on there being no place yet: a second write (a retry, a second run) never moves one."""
    from chalicelib.store import privacy

    request_id = file_request(client, admin, verified_by_admin=True)
    unlist(request_id)
    with invocation.invocation():
        [read] = [r for r in privacy.unlisted_requests() if r.request_id == request_id]
        assert privacy.fill_list_position(read, privacy.OPEN, read.due_at) is True
        placed = privacy.get(request_id)
        assert privacy.fill_list_position(read, privacy.OPEN, read.due_at - timedelta(days=9)) is False
        again = privacy.get(request_id)
    assert (again.list_pk, again.list_sk) == (placed.list_pk, placed.list_sk)
    assert placed.list_sk.startswith(clock.sort_stamp(read.due_at))


def test_the_reindex_command_fills_leads_and_requests_and_says_how_many(client, admin, widget, capsys):
    from chalicelib.store.models.leads import LeadRecord
    from tests.support.leads import lead_body, post_lead

    lead_id = body_of(post_lead(client, widget, lead_body()))["lead_id"]
    request_id = file_request(client, admin, verified_by_admin=True)
    with invocation.invocation():
        LeadRecord(lead_id).update(actions=[LeadRecord.activity_sk.remove()])
    unlist(request_id)
    capsys.readouterr()
    assert cli.main(["reindex"]) == 0
    assert json.loads(capsys.readouterr().out) == {"leads_indexed": 1, "privacy_requests_indexed": 1}
    assert cli.main(["reindex"]) == 0
    assert json.loads(capsys.readouterr().out) == {"leads_indexed": 0, "privacy_requests_indexed": 0}
    assert listed(client, admin) == [request_id]


def test_make_run_reindexes_only_after_indexes_were_added_and_says_counts_only(client, admin):
    from devtools.run_local import reindex_after

    request_id = file_request(client, admin, verified_by_admin=True)
    unlist(request_id)
    assert reindex_after({"t-leads": "exists", "t-events": "stream enabled"}) is None
    assert listed(client, admin) == []
    line = reindex_after({"t-leads": "exists", "t-privacy_requests": "indexes added: tenant_requests"})
    assert line == "Reindexed data from before the new indexes: 0 leads indexed, 1 privacy requests indexed"
    assert listed(client, admin) == [request_id]


# --- init adds the indexes a table lacks ---------------------------------------------------

def old_leads_table(client, name):
    """The leads table as the release before made it: ``by_tenant`` and ``by_agent``, no activity lists."""
    strings = ["lead_id", "list_pk", "list_sk", "agent_pk"]
    client.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in strings],
        KeySchema=[{"AttributeName": "lead_id", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {"IndexName": "by_tenant", "Projection": {"ProjectionType": "ALL"},
             "KeySchema": [{"AttributeName": "list_pk", "KeyType": "HASH"},
                           {"AttributeName": "list_sk", "KeyType": "RANGE"}]},
            {"IndexName": "by_agent", "Projection": {"ProjectionType": "ALL"},
             "KeySchema": [{"AttributeName": "agent_pk", "KeyType": "HASH"},
                           {"AttributeName": "list_sk", "KeyType": "RANGE"}]}])


def test_init_adds_the_indexes_an_older_table_lacks_and_keeps_the_others(aws, capsys):
    from chalicelib.store.binding import bind_tables
    from chalicelib.store.models.leads import LeadRecord
    from chalicelib.store.schema import create_tables, indexes_were_added

    bind_tables()
    name = LeadRecord.Meta.table_name
    old_leads_table(raw_client(), name)
    capsys.readouterr()
    report = create_tables()
    assert report.pop(name) == "indexes added: by_activity, by_agent_activity"
    assert set(report.values()) == {"created"} and indexes_were_added({name: "indexes added: by_activity"})
    described = raw_client().describe_table(TableName=name)["Table"]
    indexes = {index["IndexName"]: index for index in described["GlobalSecondaryIndexes"]}
    assert set(indexes) == {"by_tenant", "by_agent", "by_activity", "by_agent_activity"}  # by_agent is kept
    assert indexes["by_activity"]["KeySchema"] == [{"AttributeName": "list_pk", "KeyType": "HASH"},
                                                   {"AttributeName": "ak", "KeyType": "RANGE"}]
    assert all(index["IndexStatus"] == "ACTIVE" for index in indexes.values())
    logs = capsys.readouterr().out
    assert "table_index_not_declared" in logs and "by_agent" in logs
    # The new index answers queries.
    raw_client().put_item(TableName=name, Item={"lead_id": {"S": "led_1"}, "list_pk": {"S": "ten_1#0"},
                                                "list_sk": {"S": "x"}, "ak": {"S": "2026#led_1"}})
    found = raw_client().query(TableName=name, IndexName="by_activity", KeyConditionExpression="list_pk = :p",
                               ExpressionAttributeValues={":p": {"S": "ten_1#0"}})["Items"]
    assert [item["lead_id"]["S"] for item in found] == ["led_1"]
    again = create_tables()
    assert set(again.values()) == {"exists"} and not indexes_were_added(again)
