"""Access exports past DynamoDB's 400 KB item limit, on AWS's own engine (which enforces it)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import clock, invocation
from chalicelib.jobs import invoke_job
from chalicelib.runtime import LocalContext
from tests.support.big_exports import MANY_CALLS, export_items, file_access, give_calls, item_bytes
from tests.support.http import bearer, body_of
from tests.support.leads import lead_body, post_lead
from tests.support.outbox import download_link
from tests.support.people import PHONE, PHONE_E164

pytestmark = pytest.mark.integration

NINE = datetime(2026, 11, 20, 9, 0, 0, tzinfo=UTC)
ITEM_LIMIT = 400 * 1024


def test_a_person_with_thousands_of_calls_downloads_a_complete_export(client, widget, admin, monkeypatch):
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(NINE))
    lead_id = body_of(post_lead(client, widget, lead_body()))["lead_id"]
    with invocation.invocation():
        ids = give_calls(lead_id, MANY_CALLS, NINE - timedelta(days=60))
    request_id = file_access(client, admin, PHONE)
    assert invoke_job("privacy_worker", LocalContext("privacy_worker", timeout_s=300))["completed"] == 1
    items = export_items(request_id)
    manifest = items.pop(f"export#{request_id}")
    assert int(manifest["parts"]["N"]) == len(items) >= 2
    assert sum(len(item["sealed"]["B"]) for item in items.values()) > ITEM_LIMIT  # one item would be refused
    assert max(item_bytes(item) for item in items.values()) < 300 * 1024
    # every part leaves with the export: the same expiry as its manifest (DynamoDB's TTL deletes each)
    assert {item["expires_at"]["N"] for item in items.values()} == {manifest["expires_at"]["N"]}
    # the person's own single-use link
    token = download_link(PHONE_E164).split("&download=")[1]
    answer = client.http.post(f"/v1/privacy-requests/{request_id}/download", body=json.dumps({"token": token}),
                              headers={"Content-Type": "application/json"})
    assert answer.status_code == 200
    export = body_of(answer)
    assert [call["client_event_id"] for call in export["calls"]] == ids
    assert {call["number"] for call in export["calls"]} == {"+919845040001"}
    assert export["leads"][0]["lead_id"] == lead_id and export["leads"][0]["phone"] == PHONE_E164
    assert len(answer.body) > 3 * ITEM_LIMIT
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(NINE + timedelta(days=8)))
    gone = client.http.get(f"/v1/privacy-requests/{request_id}/export", headers=bearer(admin))
    assert gone.status_code == 410
