"""Unit tests run on moto: fast, in-process, no network."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from chalicelib.store.schema import create_tables


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def tables(aws) -> dict[str, str]:
    return create_tables()


@pytest.fixture
def client(tables):
    from chalice.test import Client

    import app

    with Client(app.app, stage_name="test") as test_client:
        yield test_client
