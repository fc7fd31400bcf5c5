"""Access exports of any size: sealed parts under 400 KB each, a manifest written last, read back whole."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib import clock
from chalicelib.jobs import invoke_job
from chalicelib.runtime import LocalContext
from chalicelib.store import privacy
from tests.support.big_exports import MANY_CALLS, export_items, file_access, give_calls, item_bytes
from tests.support.http import assert_error, bearer, body_of
from tests.support.leads import lead_body, post_lead
from tests.support.people import PHONE

ITEM_LIMIT = 400 * 1024


def work() -> dict:
    return invoke_job("privacy_worker", LocalContext("privacy_worker", timeout_s=120))


def export_of(client, admin, request_id):
    return client.http.get(f"/v1/privacy-requests/{request_id}/export", headers=bearer(admin))


@pytest.fixture
def person(client, widget):
    """A lead (found by :data:`PHONE`) and its id."""
    return body_of(post_lead(client, widget, lead_body()))["lead_id"]


def test_a_person_whose_export_passes_400_kb_gets_all_of_it(client, admin, person):
    ids = give_calls(person, MANY_CALLS, clock.now() - timedelta(days=30))
    request_id = file_access(client, admin, PHONE)
    assert work()["completed"] == 1
    items = export_items(request_id)
    manifest = items.pop(f"export#{request_id}")
    assert int(manifest["parts"]["N"]) == len(items) >= 2  # the compressed export is past one item
    assert sum(len(item["sealed"]["B"]) for item in items.values()) > ITEM_LIMIT
    assert max(item_bytes(item) for item in items.values()) < 300 * 1024
    assert {item["expires_at"]["N"] for item in items.values()} == {manifest["expires_at"]["N"]}
    export = body_of(export_of(client, admin, request_id))
    assert [call["client_event_id"] for call in export["calls"]] == ids
    assert export["calls"][17] == {"lead_id": person, "client_event_id": ids[17], "number": "+919845040001",
                                   "direction": "outgoing", "status": "answered", "duration_s": 17,
                                   "agent_id": "asha", "started_at": export["calls"][17]["started_at"]}
    assert export["leads"][0]["lead_id"] == person
    receipt = body_of(client.http.get(f"/v1/privacy-requests/{request_id}", headers=bearer(admin)))["receipt"]
    assert receipt["calls"] == MANY_CALLS


@pytest.fixture
def small_parts(monkeypatch):
    """Parts of 512 bytes, so an ordinary export has dozens of them, written in several batches."""
    monkeypatch.setattr(privacy, "EXPORT_PART_BYTES", 512)
    monkeypatch.setattr(privacy, "EXPORT_PARTS_PER_READ", 7)


def test_a_half_written_export_is_never_served_and_a_rerun_writes_a_whole_one(client, admin, person, small_parts,
                                                                              monkeypatch):
    ids = give_calls(person, 300, clock.now() - timedelta(days=3))
    request_id = file_access(client, admin, PHONE)
    real_write_all, writes = privacy.write_all, []

    def dies_on_the_second_batch(puts, deletes=()):
        writes.append(len(puts))
        if len(writes) == 2:
            raise RuntimeError("the Lambda died here")
        return real_write_all(puts, deletes)

    monkeypatch.setattr(privacy, "write_all", dies_on_the_second_batch)
    assert "error" in work()  # the job failed (logged); the next tick goes on
    assert writes == [25, 25]
    assert f"export#{request_id}" not in export_items(request_id)  # 25 parts, and no manifest naming them
    request = privacy.get(request_id)
    assert request is not None and privacy.live_export(request) is None
    monkeypatch.setattr(privacy, "write_all", real_write_all)
    assert work()["completed"] == 1
    items = export_items(request_id)
    manifest = items.pop(f"export#{request_id}")
    generation = manifest["generation"]["S"]
    ours = {key for key in items if key.startswith(f"export#{request_id}#{generation}#")}
    assert len(ours) == int(manifest["parts"]["N"]) > 50
    assert len(items) - len(ours) == 25  # the dead run's parts: named by no manifest, gone with the rest
    assert {items[key]["expires_at"]["N"] for key in ours} == {manifest["expires_at"]["N"]}
    assert max(int(item["expires_at"]["N"]) for item in items.values()) == int(manifest["expires_at"]["N"])
    assert [call["client_event_id"] for call in body_of(export_of(client, admin, request_id))["calls"]] == ids


def test_parts_swapped_or_missing_are_never_served_as_an_export(client, admin, person, small_parts):
    from cryptography.exceptions import InvalidTag

    from chalicelib.store.models.privacy import ExportRecord
    from chalicelib.store.privacy import ExportIncomplete

    give_calls(person, 100, clock.now() - timedelta(days=3))
    request_id = file_access(client, admin, PHONE)
    assert work()["completed"] == 1
    request = privacy.get(request_id)
    manifest = privacy.live_export(request)
    first, second = (ExportRecord.get(f"export#{request_id}#{manifest.generation}#{n}") for n in (0, 1))
    first.sealed, second.sealed = second.sealed, first.sealed
    first.save()
    second.save()
    with pytest.raises(InvalidTag):
        list(privacy.export_chunks(request, manifest))
    ExportRecord(f"export#{request_id}#{manifest.generation}#0").delete()
    with pytest.raises(ExportIncomplete):
        list(privacy.export_chunks(request, manifest))


def test_an_export_stored_whole_before_parts_is_still_read(client, admin, person):
    import json
    import zlib

    from chalicelib.store.models.privacy import ExportRecord

    request_id = file_access(client, admin, PHONE)
    assert work()["completed"] == 1
    request = privacy.get(request_id)
    old = {"request_id": request_id, "generated_at": clock.iso(clock.now()), "leads": [], "timeline": [],
           "calls": [{"client_event_id": "old"}],
           "consents_without_lead": []}
    sealed = privacy._key_of(request).seal_bytes(privacy.EXPORT, zlib.compress(json.dumps(old).encode()))
    ExportRecord(f"export#{request_id}", tenant_id=request.tenant_id, sealed=sealed,
                 expires_at=clock.now() + timedelta(days=7)).save()
    assert body_of(export_of(client, admin, request_id)) == old


def test_every_part_expires_with_the_export(client, admin, person, small_parts, monkeypatch):
    give_calls(person, 100, clock.now() - timedelta(days=3))
    request_id = file_access(client, admin, PHONE)
    assert work()["completed"] == 1
    items = export_items(request_id)
    assert len(items) > 10
    manifest_expiry = int(items[f"export#{request_id}"]["expires_at"]["N"])
    assert {int(item["expires_at"]["N"]) for item in items.values()} == {manifest_expiry}
    monkeypatch.setenv("LEADVAULT_NOW", clock.iso(clock.now() + timedelta(days=8)))
    assert_error(export_of(client, admin, request_id), 410, "export_expired")
