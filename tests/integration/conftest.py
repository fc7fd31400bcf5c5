"""Integration tests run on DynamoDB Local, AWS's own engine, started once for the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools.dynamodb_local import DynamoDBLocal, free_port


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[DynamoDBLocal]:
    engine = DynamoDBLocal(port=free_port()).start()
    try:
        yield engine
    finally:
        engine.stop()


@pytest.fixture
def tables(dynamodb_local, monkeypatch) -> dict[str, str]:
    """Fresh tables per test (a unique prefix), on the real engine."""
    from chalicelib.store.schema import create_tables

    monkeypatch.setenv("DYNAMODB_ENDPOINT_URL", dynamodb_local.endpoint)
    return create_tables()


@pytest.fixture
def client(tables):
    from chalice.test import Client

    import app

    with Client(app.app, stage_name="test") as test_client:
        yield test_client
