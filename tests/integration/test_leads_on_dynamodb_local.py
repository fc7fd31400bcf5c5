"""Lead intake on AWS's own engine: concurrency, retry storms, real indexes, raw scans."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib import invocation
from chalicelib.errors import RequestInProgress
from chalicelib.services.access.auth import authenticate
from chalicelib.services.leads.intake import Submission, submit_lead
from chalicelib.store.models.claims import ClaimRecord
from chalicelib.store.models.leads import LeadRecord
from tests.support.http import assert_error, bearer, body_of
from tests.support.leads import lead_body, post_lead
from tests.support.people import PLAINTEXT_MARKERS
from tests.support.tables import dump_text, scan_everything

pytestmark = pytest.mark.integration



def submit(api_key: str, body: dict, idempotency_key: str | None = None) -> tuple[int, dict]:
    """One request as one Lambda invocation would run it (own scope, own caches), retried as a client
    does while the first request with its key is still being processed (409 request_in_progress)."""
    for _ in range(200):
        with invocation.invocation():
            caller = authenticate(f"Bearer {api_key}")
            try:
                return submit_lead(Submission(caller=caller, idempotency_header=idempotency_key), body)
            except RequestInProgress:
                pass
        time.sleep(0.05)  # Retry-After says 1 s; a test need not wait that long
    raise AssertionError("the first request with this key never finished")


def leads_of(tenant: str) -> list[LeadRecord]:
    return [lead for lead in LeadRecord.scan() if lead.tenant_id == tenant]


def test_a_hundred_concurrent_submissions_of_one_person_make_one_lead(widget, tenant):
    with ThreadPoolExecutor(max_workers=24) as pool:
        results = list(pool.map(lambda n: submit(widget["api_key"], lead_body(name=f"Priya {n}")), range(100)))
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * 99 + [201]
    assert len({answer["lead_id"] for _, answer in results}) == 1
    assert len(leads_of(tenant)) == 1
    claims = [claim for claim in ClaimRecord.scan()
              if claim.pk.split("#")[:2] in ([tenant, "phone"], [tenant, "email"])]
    assert len(claims) == 2


def test_a_mobile_retry_storm_of_one_key_creates_one_lead_and_one_answer(widget, tenant):
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda _: submit(widget["api_key"], lead_body(), "retry-42"), range(40)))
    assert {(status, answer["status"]) for status, answer in results} == {(201, "created")}
    assert len({answer["lead_id"] for _, answer in results}) == 1
    assert len(leads_of(tenant)) == 1


def test_raw_scan_of_every_table_holds_no_plaintext_identifier(client, widget, issue_key):
    admin = issue_key("admin")
    lead_id = body_of(post_lead(client, widget, lead_body()))["lead_id"]
    post_lead(client, widget, lead_body(name="Priya Sharma", utm={"campaign": "x"}))
    client.http.get(f"/v1/leads/{lead_id}", headers=bearer(admin))
    text = dump_text(scan_everything()).lower()
    for marker in PLAINTEXT_MARKERS:
        assert marker.lower() not in text, marker


def test_listing_merges_shards_on_the_real_engine(client, widget, issue_key):
    admin = issue_key("admin")
    created = [body_of(post_lead(client, widget, lead_body(phone=f"+91 98000 001{n:02d}", email=None)))["lead_id"]
               for n in range(9)]
    seen, cursor = [], None
    for _ in range(10):
        page = body_of(client.http.get("/v1/leads?limit=2" + (f"&cursor={cursor}" if cursor else ""),
                                       headers=bearer(admin)))
        seen += [item["lead_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(created))


def test_cross_tenant_reads_are_404(client, widget, operator):
    lead_id = body_of(post_lead(client, widget, lead_body()))["lead_id"]
    other = operator("admin_create_tenant", {"name": "Other", "default_region": "IN"})["tenant_id"]
    their_admin = operator("admin_issue_api_key", {"tenant_id": other, "role": "admin"})
    assert_error(client.http.get(f"/v1/leads/{lead_id}", headers=bearer(their_admin)), 404, "not_found")
