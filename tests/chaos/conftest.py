"""Chaos tests: the app on DynamoDB Local behind a fault-injecting proxy (tests/support/fault_proxy.py).

Tables are made and emptied with injection off; each test switches on the faults it is about, around
the part it is about. ``make test`` runs one seed at a small scale; ``make chaos`` sets ``CHAOS_SEEDS``
(several seeds) and ``CHAOS_SCALE=long``. Every scenario reports its figures (lost, doubled, 5xx,
waits, faults injected), printed at the end of the run and, with ``CHAOS_REPORT=<file>``, kept as JSON lines.
"""

from __future__ import annotations

import json
import os
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools.dynamodb_local import DynamoDBLocal
from tests.support.fault_proxy import FaultProxy

SCALES: dict[str, dict[str, int]] = {
    # make test: one seed, small counts (the whole directory stays well under a minute).
    "quick": {"recipients": 30, "killed_recipients": 20, "intake_clients": 16, "intake_threads": 4,
              "call_leads": 12, "call_events": 36, "call_throttle_percent": 10, "keyed_requests": 2},
    # make chaos: the sizes (40 recipients at least, 200 clients) and more, several seeds.
    "long": {"recipients": 80, "killed_recipients": 80, "intake_clients": 200, "intake_threads": 6,
             "call_leads": 30, "call_events": 150, "call_throttle_percent": 20, "keyed_requests": 8},
}

FIGURES: list[dict[str, Any]] = []


def chaos_seeds() -> list[int]:
    """``CHAOS_SEEDS="1 2 3"`` (or ``1,2,3``); one seed by default."""
    raw = os.environ.get("CHAOS_SEEDS", "1").replace(",", " ").split()
    return [int(seed) for seed in raw] or [1]


def scale() -> dict[str, int]:
    name = os.environ.get("CHAOS_SCALE", "quick")
    if name not in SCALES:
        raise pytest.UsageError(f"CHAOS_SCALE is quick or long, not {name!r}")
    return SCALES[name]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "chaos_seed" in metafunc.fixturenames:
        seeds = chaos_seeds()
        metafunc.parametrize("chaos_seed", seeds, ids=[f"seed{seed}" for seed in seeds])


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    terminalreporter.section("chaos figures")
    for row in FIGURES:
        figures = ", ".join(f"{name} {value}" for name, value in row.items()
                            if name not in ("test", "injected", "engine_refused"))
        terminalreporter.write_line(f"{row['test']}: {figures}")
        if row.get("injected"):
            injected = ", ".join(f"{name} {count}" for name, count in row["injected"].items() if ":" not in name)
            terminalreporter.write_line(f"    injected: {injected}")


@pytest.fixture
def chaos_scale() -> dict[str, int]:
    return scale()


@pytest.fixture
def report(request: pytest.FixtureRequest, proxy: FaultProxy):
    """``report(**figures)``: keep a scenario's figures (with the proxy's injection counts) for the summary."""

    def keep(**figures: Any) -> dict[str, Any]:
        row = {"test": request.node.name, "seed": proxy.seed_value, **figures, "injected": proxy.injected(),
               "engine_refused": dict(proxy.upstream_errors)}
        FIGURES.append(row)
        print(json.dumps(row))
        target = os.environ.get("CHAOS_REPORT")
        if target:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            with open(target, "a") as out:
                out.write(json.dumps(row) + "\n")
        return row

    return keep


@pytest.fixture(scope="session")
def fault_proxy(dynamodb_local: DynamoDBLocal) -> Iterator[FaultProxy]:
    """The proxy in front of the session's DynamoDB Local (shared with the integration tests)."""
    proxy = FaultProxy(dynamodb_local.endpoint).start()
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture
def proxy(fault_proxy: FaultProxy, request: pytest.FixtureRequest) -> Iterator[FaultProxy]:
    """The session's proxy, reset for this test: no faults, injection off, seeded from the test's seed.

    The seed mixes the run's seed (``chaos_seed``) with the test's name, so each test draws its own
    sequence whatever ran before it.
    """
    params = getattr(getattr(request.node, "callspec", None), "params", {})
    base = int(params.get("chaos_seed", chaos_seeds()[0]))
    trace_dir = os.environ.get("CHAOS_TRACE")  # a folder: one file per test, a line per DynamoDB request
    fault_proxy.trace = [] if trace_dir else None
    fault_proxy.reset(base * 1_000_003 + zlib.crc32(request.node.originalname.encode()))
    fault_proxy.seed_value = base
    yield fault_proxy
    if trace_dir and fault_proxy.trace is not None:
        Path(trace_dir).mkdir(parents=True, exist_ok=True)
        (Path(trace_dir) / f"{request.node.name}.log").write_text("\n".join(fault_proxy.trace) + "\n")
    fault_proxy.reset(base)


@pytest.fixture(scope="session")
def chaos_session_tables() -> dict[str, str]:
    return {}


@pytest.fixture
def tables(proxy, monkeypatch, chaos_session_tables, session_table_prefix) -> dict[str, str]:
    """Every table, empty, made through the proxy with injection off; the app is pointed at the proxy."""
    from tests.support.tables import ready_tables

    assert os.environ["LEADVAULT_TABLE_PREFIX"] == session_table_prefix, \
        "name tables as an argument of the test or of its fixtures: test_environment picks the prefix from that"
    monkeypatch.setenv("DYNAMODB_ENDPOINT_URL", proxy.endpoint)
    monkeypatch.setenv("LEADVAULT_SEND_RATE", "0")
    with proxy.quiet():
        return ready_tables(chaos_session_tables)


@pytest.fixture
def client(tables):
    from chalice.test import Client

    import app

    with Client(app.app, stage_name="test") as test_client:
        yield test_client


class ThreadSafeApi:
    """The app's routes called from many threads at once, as concurrent Lambda invocations would be.

    ``chalice.test.Client`` swaps ``os.environ`` around each request and the app keeps the current
    request on itself, so it serves one thread. Here each thread has its own local gateway and the
    app its request per thread (as ``chalice local`` does); ``.http`` is the object itself, so the
    helpers written for the test client (``post_lead``, ``post``) take it as they are.
    """

    def __init__(self, app_object: Any, config: Any) -> None:
        self._app = app_object
        self._config = config
        self._local = threading.local()

    @property
    def http(self) -> ThreadSafeApi:
        return self

    def request(self, method: str, path: str, headers: dict[str, str] | None = None, body: Any = b"") -> Any:
        from chalice.local import LocalGateway, LocalGatewayException
        from chalice.test import HTTPResponse

        gateway = getattr(self._local, "gateway", None)
        if gateway is None:
            gateway = self._local.gateway = LocalGateway(self._app, self._config)
        raw = body.encode() if isinstance(body, str) else body
        try:
            answer = gateway.handle_request(method=method.upper(), path=path, headers=dict(headers or {}), body=raw)
        except LocalGatewayException as error:
            return HTTPResponse(headers=error.headers, body=error.body or b"", status_code=error.CODE)
        return HTTPResponse.create_from_dict(answer)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Any:
        return self.request("PATCH", path, **kwargs)


@pytest.fixture
def api(tables) -> Iterator[ThreadSafeApi]:
    """The app for concurrent clients (see :class:`ThreadSafeApi`); the app's class is restored after."""
    from chalice.cli.factory import CLIFactory
    from chalice.local import LocalChalice

    import app
    from devtools.dynamodb_local import PROJECT_DIR

    original = app.app.__class__
    app.app.__class__ = type("PerThreadRequests", (LocalChalice, original), {})
    config = CLIFactory(str(PROJECT_DIR)).create_config_obj(chalice_stage_name="test")
    try:
        yield ThreadSafeApi(app.app, config)
    finally:
        app.app.__class__ = original


@pytest.fixture
def raw(dynamodb_local):
    """A plain boto3 client straight to DynamoDB Local (never through the proxy), to check what is stored."""
    import boto3

    return boto3.client("dynamodb", region_name="us-east-1", endpoint_url=dynamodb_local.endpoint,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture
def generous_budgets(operator, tenant) -> None:
    """Every public budget of the tenant far above what a scenario spends: the chaos is DynamoDB's, not ours.

    (Every client of a test comes from one address, and retries spend budgets too.)
    """
    from chalicelib.services.access.budgets import DEFAULT_BUDGETS

    answer = operator("admin_set_budgets", {"tenant_id": tenant, "budgets": dict.fromkeys(DEFAULT_BUDGETS, 1_000_000)})
    assert "budgets" in answer, answer


SDK_SLEEP_SHARE = 0.02


@pytest.fixture
def short_sdk_sleeps(monkeypatch) -> None:
    """botocore's sleeps between its retries cut to a fiftieth: the same retries, in the same order, sooner.

    For scenarios that count effects, not waits (a request failing all of the SDK's tries otherwise
    sleeps its whole backoff schedule). The intake scenario measures what clients wait: it keeps them.
    """
    import time as real_time

    import botocore.endpoint

    class ShortSleeps:
        def __getattr__(self, name: str) -> Any:
            return getattr(real_time, name)

        @staticmethod
        def sleep(seconds: float) -> None:
            real_time.sleep(seconds * SDK_SLEEP_SHARE)

    monkeypatch.setattr(botocore.endpoint, "time", ShortSleeps())
