"""`make run`'s program over real HTTP: demo tenant, keys, errors, Ctrl-C, data kept across runs."""

from __future__ import annotations

import socket

import pytest

from tests.e2e.local_run import LocalRun

pytestmark = pytest.mark.e2e


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_local_run_serves_keeps_data_and_stops_cleanly(tmp_path):
    first = LocalRun(tmp_path / "data").start()
    try:
        keys = first.keys()
        assert set(keys) == {"widget", "agent", "admin"}
        assert first.request("GET", "/v1/health") == (200, {"status": "ok"})
        status, me = first.request("GET", "/v1/me", headers={"Authorization": f"Bearer {keys['agent']}"})
        assert status == 200 and me["role"] == "agent" and me["agent_id"] == "demo-agent"
        status, body = first.request("GET", "/v1/no-such-route", headers={"Authorization": f"Bearer {keys['admin']}"})
        assert status == 404 and body["error"]["code"] == "not_found"
        assert keys["admin"] not in str(body)  # the gateway's own error must not echo the key
        status, body = first.request("GET", "/v1/me", headers={"Authorization": "Bearer nope"})
        assert status == 401 and body["error"]["code"] == "unauthorized"
        status, body = first.request("DELETE", "/v1/health")
        assert status == 405 and body["error"]["code"] == "method_not_allowed"
        assert listening(first.ddb_port)
    finally:
        printed = first.stop()
    assert "Stopping." in printed
    assert not listening(first.ddb_port) and not listening(first.port)

    second = LocalRun(tmp_path / "data", port=first.port, ddb_port=first.ddb_port).start()
    try:
        assert second.keys() == {}  # keys are shown once, on the first run only
        assert any("exists" in line for line in second.output)
        status, me = second.request("GET", "/v1/me", headers={"Authorization": f"Bearer {keys['admin']}"})
        assert status == 200 and me["role"] == "admin"
    finally:
        second.stop()
