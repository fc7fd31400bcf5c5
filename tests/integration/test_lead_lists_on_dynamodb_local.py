"""Staff lead lists on AWS's own engine: the activity indexes, their shards merged in order, filters inside the
Query, and the search through the blind index."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib import clock
from chalicelib.store.leads import LIST_SHARDS, list_shard
from tests.support.http import bearer, body_of
from tests.support.leads import lead_body, post_lead

pytestmark = pytest.mark.integration

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
JSON = {"Content-Type": "application/json"}


def every_page(client, key, query: str, limit: int) -> list[str]:
    ids, cursor = [], None
    while True:
        suffix = f"&cursor={cursor}" if cursor else ""
        page = client.http.get(f"/v1/leads?limit={limit}&{query}{suffix}", headers=bearer(key))
        assert page.status_code == 200, page.body
        ids += [item["lead_id"] for item in body_of(page)["items"]]
        cursor = body_of(page)["next_cursor"]
        if cursor is None:
            return ids


def test_lists_merge_shards_newest_activity_first_with_filters_and_search(client, widget, admin, monkeypatch):
    ids: list[str] = []
    n = -1
    while len(ids) < 12 or min(sum(list_shard(i) == shard for i in ids) for shard in range(LIST_SHARDS)) < 2:
        n += 1
        assert n < 80, "lead ids never filled every shard"
        monkeypatch.setenv("LEADVAULT_NOW", clock.iso(START + timedelta(minutes=7 * n)))
        body = lead_body(name=f"Person {n}", phone=f"+91 98450 2{n:04d}", email=f"p{n}@example.com",
                         source="fair" if n % 3 == 0 else "web")
        answer = post_lead(client, widget, body)
        assert answer.status_code == 201, answer.body
        ids.append(body_of(answer)["lead_id"])
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(START + timedelta(days=1)))
    moved = client.http.patch(f"/v1/leads/{ids[2]}", headers=bearer(admin, **JSON), body=json.dumps({"stage": "won"}))
    assert moved.status_code == 200
    newest_first = [ids[2], *(lead_id for lead_id in reversed(ids) if lead_id != ids[2])]
    for limit in (1, 3, 50):
        assert every_page(client, admin, "", limit) == newest_first
    fair = [lead_id for k, lead_id in enumerate(ids) if k % 3 == 0]
    assert every_page(client, admin, "source=fair", 2) == list(reversed(fair))
    assert every_page(client, admin, "stage=won", 2) == [ids[2]]
    assert every_page(client, admin, "source=fair&created_from=2026-11-02T09:30:00Z", 2) == \
        [lead_id for k, lead_id in reversed(list(enumerate(ids))) if k % 3 == 0 and 7 * k >= 30]
    found = client.http.post("/v1/leads/search", headers=bearer(admin, **JSON),
                             body=json.dumps({"q": "098450 20005"}))
    assert [item["lead_id"] for item in body_of(found)["items"]] == [ids[5]]
