"""Unit tests run on moto: fast, in-process, no network."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

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
    """The in-process client; every answer to a documented route is held against the OpenAPI document."""
    from chalice.test import Client

    import app
    from tests.support.documented import check_answer

    with Client(app.app, stage_name="test") as test_client:
        send = test_client.http.request

        def request(method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"") -> Any:
            response = send(method, path, headers=headers, body=body)
            check_answer(method, path, response.status_code, response.headers, response.body)
            return response

        test_client.http.request = request  # type: ignore[method-assign]
        yield test_client
