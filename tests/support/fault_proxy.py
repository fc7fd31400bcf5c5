"""A fault-injecting HTTP proxy between botocore and DynamoDB Local, and a way to SIGKILL a run mid-way.

DynamoDB in the cloud throttles, answers 500, returns partial batches and sometimes applies a write whose
answer never arrives (botocore then retries a write that already happened). DynamoDB Local does none of
that, so the chaos tests put this proxy in front of it (``DYNAMODB_ENDPOINT_URL`` names the proxy).

botocore speaks JSON 1.0 to DynamoDB: ``POST /`` with ``X-Amz-Target: DynamoDB_20120810.<Operation>``.
Each :class:`Fault` has a rate and optional filters (operations, a substring of the body, table name
suffixes); ``times`` makes it a targeted fault that fires on the next matching request(s) only.
Decisions come from one seeded ``random.Random``: a single-threaded run is reproduced by its seed
(a concurrent one draws in the order threads arrive, so only its fault *rates* are reproduced).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

THROTTLE = "throttle"  # not forwarded; 400 ThrottlingException / ProvisionedThroughputExceededException
SERVER_ERROR = "server_error"  # not forwarded; 500 InternalServerError
AMBIGUOUS = "ambiguous"  # forwarded and applied; the answer is lost (500, or the connection dropped)
PARTIAL = "partial"  # batches: a random part is processed, the rest comes back unprocessed
LATENCY = "latency"  # a sleep before forwarding
KINDS = (THROTTLE, SERVER_ERROR, AMBIGUOUS, PARTIAL, LATENCY)
_WHOLE = (THROTTLE, SERVER_ERROR, AMBIGUOUS)

WRITE_OPERATIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems",
                              "ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"})
BATCH_OPERATIONS = frozenset({"BatchWriteItem", "BatchGetItem", "BatchExecuteStatement"})
# What botocore's standard retry mode reads as throttling (botocore/retries/standard.py).
THROTTLING_CODES = ("ThrottlingException", "ProvisionedThroughputExceededException")
PARTIQL_THROTTLING_CODES = ("ThrottlingError", "ProvisionedThroughputExceeded")
_ERROR_TYPE = "com.amazonaws.dynamodb.v20120810#"
_STATEMENT_TABLE = re.compile(r'(?i)\b(?:update|into|from)\s+"([^"]+)"')
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "x-amz-crc32"}


@dataclass
class Fault:
    """One kind of fault, its rate, and which requests it may hit (every filter given must match)."""

    kind: str
    rate: float = 1.0
    operations: frozenset[str] | None = None
    body_contains: str | None = None
    tables: tuple[str, ...] = ()  # table name suffixes ("leads", "unique_keys")
    times: int | None = None  # targeted: fire on at most this many matching requests
    delay_s: float = 0.05  # latency
    answer: str = "mixed"  # ambiguous: "500", "drop" (connection closed) or "mixed"
    code: str = "mixed"  # throttle: one of THROTTLING_CODES or "mixed"
    held_share: float = 0.5  # partial: the chance each item of a split batch is held back
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}")
        if self.operations is not None:
            self.operations = frozenset(self.operations)

    @property
    def spent(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def matches(self, operation: str, body: str, tables: set[str]) -> bool:
        if self.operations is not None and operation not in self.operations:
            return False
        if self.body_contains is not None and self.body_contains not in body:
            return False
        return not self.tables or any(name.endswith(suffix) for name in tables for suffix in self.tables)


@dataclass
class _Plan:
    delay_s: float = 0.0
    whole: Fault | None = None
    variant: str = ""
    partial: Fault | None = None
    held: frozenset[int] = frozenset()


def tables_of(document: dict[str, Any]) -> set[str]:
    """Every table a request names: ``TableName``, batch and transaction items, PartiQL statements."""
    names: set[str] = set()
    if isinstance(document.get("TableName"), str):
        names.add(document["TableName"])
    names.update(document.get("RequestItems") or {})
    for item in document.get("TransactItems") or []:
        names.update(part["TableName"] for part in item.values() if isinstance(part, dict) and "TableName" in part)
    statements = [document.get("Statement") or ""]
    statements += [s.get("Statement", "") for s in document.get("Statements") or document.get("TransactStatements")
                   or []]
    for statement in statements:
        names.update(_STATEMENT_TABLE.findall(statement))
    return names


def _batch_items(operation: str, document: dict[str, Any]) -> list[Any]:
    """The units a batch may split into: (table, request), (table, key) or statements, in request order."""
    if operation == "BatchWriteItem":
        return [(table, request) for table, requests in document.get("RequestItems", {}).items()
                for request in requests]
    if operation == "BatchGetItem":
        return [(table, key) for table, asked in document.get("RequestItems", {}).items()
                for key in asked.get("Keys", [])]
    return list(document.get("Statements") or [])


class FaultProxy:
    """The proxy: ``start()``, point clients at ``endpoint``, ``add()`` faults, read ``counts``."""

    def __init__(self, upstream: str, seed: int = 0, host: str = "127.0.0.1", port: int = 0) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._address = (host, port)
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self.seed_value = seed
        self._faults: list[Fault] = []
        self._enabled = False
        self.counts: Counter[tuple[str, str]] = Counter()  # (fault kind, operation) -> injections
        self.requests: Counter[str] = Counter()  # operation -> requests seen
        self.upstream_errors: Counter[str] = Counter()  # "Operation:Code" -> errors DynamoDB Local itself answered
        # When a list: one line per request (seconds since reset, client port, operation, what was done).
        self.trace: list[str] | None = None
        self._started = time.monotonic()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._upstream_connections = threading.local()

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self._server = ThreadingHTTPServer(self._address, Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def endpoint(self) -> str:
        assert self._server is not None, "start the proxy first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # --- configuration ---------------------------------------------------------------------

    def reset(self, seed: int) -> None:
        """No faults, injection off, counters zeroed, the generator seeded afresh."""
        with self._lock:
            self._faults.clear()
            self._enabled = False
            self.counts.clear()
            self.requests.clear()
            self.upstream_errors.clear()
            self._rng = random.Random(seed)
            self.seed_value = seed
            self._started = time.monotonic()
            if self.trace is not None:
                self.trace = []

    def add(self, *faults: Fault) -> list[Fault]:
        with self._lock:
            self._faults.extend(faults)
        return list(faults)

    def remove(self, *faults: Fault) -> None:
        with self._lock:
            self._faults = [fault for fault in self._faults if all(fault is not gone for gone in faults)]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def lose_next(self, times: int = 1, **filters: Any) -> Fault:
        """Targeted: apply the next matching request(s) and lose the answer (500)."""
        return self.add(Fault(AMBIGUOUS, times=times, answer=filters.pop("answer", "500"), **filters))[0]

    def enable(self) -> None:
        with self._lock:
            self._enabled = True

    def disable(self) -> None:
        with self._lock:
            self._enabled = False

    @property
    def enabled(self) -> bool:
        return self._enabled

    @contextmanager
    def quiet(self) -> Iterator[None]:
        """No injection inside (table creation, seeding, checks); restored after."""
        with self._lock:
            before, self._enabled = self._enabled, False
        try:
            yield
        finally:
            with self._lock:
                self._enabled = before

    @contextmanager
    def faults(self, *faults: Fault) -> Iterator[list[Fault]]:
        """These faults, injection on, inside; both undone after."""
        added = self.add(*faults)
        self.enable()
        try:
            yield added
        finally:
            self.disable()
            self.remove(*added)

    def injected(self) -> dict[str, int]:
        """Injections by ``kind`` and by ``kind:Operation``, for reports."""
        with self._lock:
            totals: Counter[str] = Counter()
            for (kind, operation), count in self.counts.items():
                totals[kind] += count
                totals[f"{kind}:{operation}"] += count
        return dict(sorted(totals.items()))

    # --- decisions -------------------------------------------------------------------------

    def _plan(self, operation: str, body: str, document: dict[str, Any]) -> _Plan:
        plan = _Plan()
        with self._lock:
            self.requests[operation] += 1
            if not self._enabled:
                return plan
            tables = tables_of(document)
            matching = [f for f in self._faults if not f.spent and f.matches(operation, body, tables)]
            for fault in matching:
                if fault.kind == LATENCY and self._rng.random() < fault.rate:
                    plan.delay_s += fault.delay_s
                    self._count(fault, operation)
            for fault in matching:
                if fault.kind in _WHOLE and self._rng.random() < fault.rate:
                    plan.whole, plan.variant = fault, self._variant(fault)
                    self._count(fault, operation)
                    return plan
            if operation in BATCH_OPERATIONS:
                for fault in matching:
                    if fault.kind == PARTIAL and self._rng.random() < fault.rate:
                        held = self._held(len(_batch_items(operation, document)), fault.held_share)
                        if held:
                            plan.partial, plan.held = fault, held
                            self._count(fault, operation)
                            self.counts[("partial_items", operation)] += len(held)
                        return plan
        return plan

    def _count(self, fault: Fault, operation: str) -> None:
        fault.fired += 1
        self.counts[(fault.kind, operation)] += 1

    def _variant(self, fault: Fault) -> str:
        if fault.kind == AMBIGUOUS:
            return fault.answer if fault.answer != "mixed" else self._rng.choice(("500", "drop"))
        if fault.kind == THROTTLE:
            return fault.code if fault.code != "mixed" else self._rng.choice(THROTTLING_CODES)
        return ""

    def _held(self, size: int, share: float) -> frozenset[int]:
        """Indexes held back: each with ``share`` chance, at least one (a batch of one may be held whole)."""
        if size == 0:
            return frozenset()
        held = {index for index in range(size) if self._rng.random() < share}
        return frozenset(held or {self._rng.randrange(size)})

    def _partiql_code(self, fault: Fault) -> str:
        with self._lock:
            return fault.code if fault.code in PARTIQL_THROTTLING_CODES else self._rng.choice(PARTIQL_THROTTLING_CODES)

    # --- one request -----------------------------------------------------------------------

    def handle(self, handler: _Handler, raw: bytes) -> None:
        operation = (handler.headers.get("X-Amz-Target") or "").rpartition(".")[2] or "?"
        text = raw.decode("utf-8", errors="replace")
        try:
            document = json.loads(text) if text else {}
        except ValueError:
            document = {}
        plan = self._plan(operation, text, document if isinstance(document, dict) else {})
        if self.trace is not None:
            done = (f"{plan.whole.kind}:{plan.variant}" if plan.whole else
                    f"partial:{len(plan.held)}" if plan.partial else "forwarded")
            self.trace.append(f"{time.monotonic() - self._started:8.3f} {handler.client_address[1]} {operation} {done}"
                              + (f" +{plan.delay_s}s" if plan.delay_s else ""))
        if plan.delay_s:
            time.sleep(plan.delay_s)
        if plan.whole is not None:
            self._whole_fault(handler, plan, raw)
        elif plan.partial is not None:
            self._partial(handler, operation, document, plan)
        else:
            status, headers, body = self.forward(handler, raw)
            _reply(handler, status, body, headers)

    def _whole_fault(self, handler: _Handler, plan: _Plan, raw: bytes) -> None:
        kind = plan.whole.kind if plan.whole else ""
        if kind == THROTTLE:
            _reply(handler, 400, _error(plan.variant, "Rate of requests exceeds the allowed throughput."))
            return
        if kind == AMBIGUOUS:
            self.forward(handler, raw)  # applied; the answer goes nowhere
            if plan.variant == "drop":
                handler.close_connection = True  # no answer at all: botocore sees the connection closed
                return
        _reply(handler, 500, _error("InternalServerError", "Internal server error"))

    def forward(self, handler: _Handler, raw: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        """Send the request on to DynamoDB Local (one kept-alive connection per proxy thread)."""
        headers = {name: value for name, value in handler.headers.items() if name.lower() not in _HOP_BY_HOP}
        headers["Content-Length"] = str(len(raw))
        for attempt in range(2):
            connection = getattr(self._upstream_connections, "connection", None)
            reused = connection is not None
            if connection is None:
                connection = http.client.HTTPConnection(*self.upstream, timeout=60)
                self._upstream_connections.connection = connection
            try:
                connection.request("POST", handler.path, body=raw, headers=headers)
                response = connection.getresponse()
                body = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                connection.close()
                self._upstream_connections.connection = None
                if reused and attempt == 0:
                    continue  # a kept-alive connection the engine had closed: nothing was processed
                raise
            if response.will_close:
                connection.close()
                self._upstream_connections.connection = None
            if response.status >= 400:
                self._note_upstream_error(handler, body)
            return response.status, list(response.getheaders()), body
        raise AssertionError("unreachable")

    def _note_upstream_error(self, handler: _Handler, body: bytes) -> None:
        """Count what the engine refused (conditional checks, a replayed transaction...), by operation and code."""
        operation = (handler.headers.get("X-Amz-Target") or "").rpartition(".")[2]
        try:
            code = str(json.loads(body).get("__type", "")).rpartition("#")[2] or "?"
        except (ValueError, AttributeError):
            code = "?"
        with self._lock:
            self.upstream_errors[f"{operation}:{code}"] += 1

    def _partial(self, handler: _Handler, operation: str, document: dict[str, Any], plan: _Plan) -> None:
        items = _batch_items(operation, document)
        kept = [item for index, item in enumerate(items) if index not in plan.held]
        held = [item for index, item in enumerate(items) if index in plan.held]
        if operation == "BatchExecuteStatement":
            self._partial_statements(handler, document, plan, items)
            return
        if not kept:
            # As DynamoDB does when it can process none of a batch's items.
            _reply(handler, 400, _error("ProvisionedThroughputExceededException", "Throughput exceeded."))
            return
        if operation == "BatchWriteItem":
            forwarded = {**document, "RequestItems": _group(kept)}
        else:
            forwarded = {**document, "RequestItems": _group_keys(kept, document["RequestItems"])}
        status, headers, body = self.forward(handler, json.dumps(forwarded).encode())
        if status != 200:
            _reply(handler, status, body, headers)
            return
        answer = json.loads(body)
        if operation == "BatchWriteItem":
            unprocessed = answer.get("UnprocessedItems") or {}
            for table, requests in _group(held).items():
                unprocessed.setdefault(table, []).extend(requests)
            answer["UnprocessedItems"] = unprocessed
        else:
            unprocessed = answer.get("UnprocessedKeys") or {}
            for table, asked in _group_keys(held, document["RequestItems"]).items():
                unprocessed.setdefault(table, {**asked, "Keys": []})["Keys"].extend(asked["Keys"])
            answer["UnprocessedKeys"] = unprocessed
        _reply(handler, 200, json.dumps(answer).encode(), headers)

    def _partial_statements(self, handler: _Handler, document: dict[str, Any], plan: _Plan,
                            statements: list[dict[str, Any]]) -> None:
        """Forward the kept statements; answer the others at their index with a per-statement throttle."""
        kept = [s for index, s in enumerate(statements) if index not in plan.held]
        answer: dict[str, Any] = {"Responses": []}
        headers: list[tuple[str, str]] = []
        if kept:
            status, headers, body = self.forward(handler, json.dumps({**document, "Statements": kept}).encode())
            if status != 200:
                _reply(handler, status, body, headers)
                return
            answer = json.loads(body)
        done = iter(answer.get("Responses") or [])
        responses = []
        for index, statement in enumerate(statements):
            if index in plan.held:
                error: dict[str, Any] = {"Error": {"Code": self._partiql_code(plan.partial or Fault(PARTIAL)),
                                                   "Message": "Throughput exceeds the current capacity."}}
                table = _STATEMENT_TABLE.findall(statement.get("Statement", ""))
                if table:
                    error["TableName"] = table[0]
                responses.append(error)
            else:
                responses.append(next(done, {}))
        answer["Responses"] = responses
        _reply(handler, 200, json.dumps(answer).encode(), headers)


def _group(items: list[tuple[str, Any]]) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = {}
    for table, item in items:
        grouped.setdefault(table, []).append(item)
    return grouped


def _group_keys(items: list[tuple[str, Any]], asked: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Keys grouped by table, each table keeping its other parameters (ConsistentRead, projection)."""
    grouped: dict[str, dict[str, Any]] = {}
    for table, key in items:
        grouped.setdefault(table, {**asked[table], "Keys": []})["Keys"].append(key)
    return grouped


def _error(code: str, message: str) -> bytes:
    return json.dumps({"__type": _ERROR_TYPE + code, "message": message}).encode()


def _reply(handler: _Handler, status: int, body: bytes, headers: list[tuple[str, str]] | None = None) -> None:
    """Answer with a correct ``x-amz-crc32`` (botocore checks it on DynamoDB answers)."""
    handler.send_response(status)
    sent = set()
    for name, value in headers or []:
        if name.lower() not in _HOP_BY_HOP and name.lower() not in ("date", "server"):
            handler.send_header(name, value)
            sent.add(name.lower())
    if "content-type" not in sent:
        handler.send_header("Content-Type", "application/x-amz-json-1.0")
    if "x-amzn-requestid" not in sent:
        handler.send_header("x-amzn-RequestId", uuid.uuid4().hex)
    handler.send_header("x-amz-crc32", str(zlib.crc32(body) & 0xFFFFFFFF))
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
    owner: FaultProxy

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.owner.handle(self, raw)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a line per request would drown the test output."""


# --- killed mid-run ------------------------------------------------------------------------

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent


@dataclass
class Run:
    """How a child run ended: SIGKILLed by us, or on its own (``returncode``), and what it printed."""

    killed: bool
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)


def job_code(name: str, timeout_s: float = 300.0) -> str:
    """Python source that runs one scheduled function as Lambda would, printing its summary as JSON."""
    return ("import json\nfrom chalicelib.jobs import invoke_job\nfrom chalicelib.runtime import LocalContext\n"
            f"print(json.dumps(invoke_job({name!r}, LocalContext({name!r}, timeout_s={timeout_s!r}))))\n")


def run_and_kill(code: str, kill_when: Callable[[], bool], env: dict[str, str] | None = None,
                 timeout_s: float = 120.0, poll_s: float = 0.002) -> Run:
    """Run ``code`` in a fresh Python and SIGKILL it as soon as ``kill_when()`` holds (polled).

    The child inherits this process's environment (tables, endpoint, outbox, master key) unless
    ``env`` is given. A child that ends before the moment comes is reported with ``killed=False``.
    """
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen([sys.executable, "-c", code], cwd=PROJECT_DIR,
                                   env=dict(os.environ) if env is None else env, stdout=out, stderr=err, text=True)
        killed = False
        try:
            while process.poll() is None:
                if kill_when():
                    os.kill(process.pid, signal.SIGKILL)
                    killed = True
                    break
                if time.monotonic() - started > timeout_s:
                    os.kill(process.pid, signal.SIGKILL)
                    raise AssertionError(f"the child run did not reach the moment to kill it in {timeout_s} s")
                time.sleep(poll_s)
        finally:
            process.wait()
        out.seek(0)
        err.seek(0)
        return Run(killed, process.returncode, out.read(), err.read(), time.monotonic() - started)
