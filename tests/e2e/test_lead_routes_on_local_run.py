"""The lead routes whose paths share a prefix, on Chalice's own local server: ``/v1/leads/export`` and
``/v1/leads/search`` are their own routes, never a lead id, and ``/v1/leads/{lead_id}`` still is."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.e2e.local_run import LocalRun

pytestmark = pytest.mark.e2e


def fetch(run: LocalRun, method: str, path: str, key: str, body: bytes | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(run.base_url + path, data=body, method=method,
                                     headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_export_search_and_a_lead_coexist(tmp_path):
    run = LocalRun(tmp_path / "data").start()
    try:
        keys = run.keys()
        status, headers, body = fetch(run, "POST", "/v1/leads", keys["agent"], (
            b'{"name": "Kiran", "phone": "+91 98450 55555", '
            b'"consent": {"purposes": ["contact"], "policy_version": "demo-1"}}'))
        assert status == 201, body
        lead_id = json.loads(body)["lead_id"]
        status, headers, body = fetch(run, "GET", "/v1/leads/export", keys["admin"])
        assert status == 200 and headers["Content-Type"] == "text/csv; charset=utf-8", body
        assert body.decode().startswith("lead_id,name,phone,email,") and lead_id in body.decode()
        status, _, body = fetch(run, "POST", "/v1/leads/search", keys["agent"], b'{"q": "09845055555"}')
        assert status == 200 and lead_id in body.decode()  # the agent's own submission is its lead
        status, _, body = fetch(run, "GET", f"/v1/leads/{lead_id}", keys["agent"])
        assert status == 200 and b'"assigned_agent":"demo-agent"' in body
        status, _, body = fetch(run, "GET", "/v1/leads/export", keys["agent"])
        assert status == 403
        status, _, body = fetch(run, "GET", "/v1/leads?q=09845055555", keys["admin"])
        assert status == 400 and b"use_post_lookup" in body and b"55555" not in body
    finally:
        run.stop()
