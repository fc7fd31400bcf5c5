"""Unit tests run on moto: fast, in-process, no network.

moto is started once per session (per xdist worker) and the tables once, under the session's
prefix (see ``session_table_prefix``); before each test that asks for AWS, moto is put back as new
but for those tables, which are emptied (tests/support/moto_state.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from chalicelib.store.schema import create_tables
from tests.support.moto_state import intercepting, reset_aws, table_names


@pytest.fixture(scope="session")
def moto_session() -> Iterator[None]:
    """moto, started once for the session; between tests it answers nothing (see ``intercepting``)."""
    with mock_aws():
        intercepting(False)
        yield


@pytest.fixture(scope="session")
def session_tables() -> dict[str, str]:
    """Each table of the session and what making it did ("created"); filled by the first ``tables``."""
    return {}


@pytest.fixture
def aws(moto_session, session_tables) -> Iterator[None]:
    """AWS as new for this test, on moto; only the session's tables (emptied) are left from before."""
    reset_aws(keep_tables=session_tables)
    intercepting(True)
    try:
        yield
    finally:
        intercepting(False)


@pytest.fixture
def tables(aws, session_tables, session_table_prefix) -> dict[str, str]:
    """Every table of the service, empty: made once in the session, emptied before each test since."""
    assert os.environ["LEADVAULT_TABLE_PREFIX"] == session_table_prefix, \
        "name tables as an argument of the test or of its fixtures: test_environment picks the prefix from that"
    if not session_tables or set(session_tables) - table_names():
        for name, state in create_tables().items():
            session_tables.setdefault(name, state)
    return dict(session_tables)


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
