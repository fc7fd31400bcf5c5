"""Integration tests run on DynamoDB Local, AWS's own engine, started once for the session.

The tables are made once per session (per xdist worker), under the session's prefix (see
``session_table_prefix``), and emptied before each test that uses them.
"""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def session_tables() -> dict[str, str]:
    """Each table of the session and what making it did ("created"); filled by the first ``tables``."""
    return {}


@pytest.fixture
def tables(dynamodb_local, monkeypatch, session_tables, session_table_prefix) -> dict[str, str]:
    """Every table, empty, on the real engine: made once in the session, emptied before each test since."""
    from tests.support.tables import ready_tables

    assert os.environ["LEADVAULT_TABLE_PREFIX"] == session_table_prefix, \
        "name tables as an argument of the test or of its fixtures: test_environment picks the prefix from that"
    monkeypatch.setenv("DYNAMODB_ENDPOINT_URL", dynamodb_local.endpoint)
    return ready_tables(session_tables)


@pytest.fixture
def client(tables):
    from chalice.test import Client

    import app

    with Client(app.app, stage_name="test") as test_client:
        yield test_client
