"""The local run fires the scheduled functions: an erasure filed over HTTP completes by itself."""

from __future__ import annotations

import time

import pytest

from tests.e2e.local_run import LocalRun

pytestmark = pytest.mark.e2e


def test_privacy_worker_completes_an_erasure_in_the_running_service(tmp_path):
    run = LocalRun(tmp_path / "data", schedule_scale=0.01).start()  # the worker fires every 0.6 s
    try:
        admin = {"Authorization": f"Bearer {run.keys()['admin']}"}
        status, lead = run.request("POST", "/v1/leads", {"name": "Asha", "phone": "+91 98450 77777"}, headers=admin)
        assert status == 201
        status, filed = run.request("POST", "/v1/privacy-requests",
                                    {"type": "erasure", "phone": "+91 98450 77777", "verified_by_admin": True},
                                    headers=admin)
        assert status == 202
        deadline = time.monotonic() + 20
        state = {}
        while time.monotonic() < deadline:
            _, state = run.request("GET", f"/v1/privacy-requests/{filed['request_id']}", headers=admin)
            if state.get("status") == "completed":
                break
            time.sleep(0.3)
        assert state["status"] == "completed" and state["receipt"]["leads"] == 1
        assert run.request("GET", f"/v1/leads/{lead['lead_id']}", headers=admin)[0] == 404
    finally:
        printed = run.stop()
    assert '"job":"privacy_worker"' in printed
