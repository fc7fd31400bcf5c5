"""The session's tables: the chaos and integration tests share one engine and one table prefix, each with
its own record of the tables, and every test of either must start on empty tables."""

from __future__ import annotations

import pytest

from chalicelib.store.models.claims import RateCounterRecord
from tests.support.tables import raw_client, ready_tables, scan_everything

pytestmark = pytest.mark.integration


def test_a_record_first_used_after_the_other_fixtures_tests_still_gets_empty_tables(tables):
    """As when ``make test`` runs the integration tests after the chaos tests: the tables exist, with items."""
    raw_client().put_item(TableName=RateCounterRecord.Meta.table_name,
                          Item={"pk": {"S": "left-by-the-other-fixture"}, "count": {"N": "7"}})
    other_record: dict[str, str] = {}
    assert set(ready_tables(other_record)) == set(tables)
    assert {name: items for name, items in scan_everything().items() if items} == {}
    assert set(other_record.values()) == {"exists"}  # found, not made: the case that used to skip emptying


def test_the_engines_expiry_sweep_is_off_for_the_session_tables(tables):
    """Tests pin the app's clock to past dates; the engine's sweep, by the real clock, would delete their
    counters and codes mid-test (a budget of 7 once let 11 charges through)."""
    client = raw_client()
    states = {name: client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]["TimeToLiveStatus"]
              for name in tables}
    assert set(states.values()) == {"DISABLED"}, states
