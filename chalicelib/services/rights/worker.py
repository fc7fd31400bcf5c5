"""``privacy_worker`` (every minute): moves verified requests on, in chunks that fit the Lambda."""

from __future__ import annotations

from typing import Any

from chalicelib import clock
from chalicelib.runtime import time_left
from chalicelib.services.rights.requests import FINAL, VERIFY_WITHIN
from chalicelib.store.models.privacy import WORK_SHARDS, PrivacyRequestRecord
from chalicelib.vault import envelope
from chalicelib.vault.envelope import SubjectKeyMissing

SAFETY_MS = 3000


def privacy_worker(context: Any) -> dict[str, int]:
    """Work through open requests, oldest due first, until the deadline is near."""

    has_time = time_left(context, SAFETY_MS)

    summary = {"completed": 0, "rejected": 0, "expired": 0, "unfinished": 0}
    for shard in range(WORK_SHARDS):
        for key in PrivacyRequestRecord.open_requests.query(f"work#{shard}"):
            if not has_time():
                summary["unfinished"] += 1
                return summary
            outcome = advance(key.request_id, has_time)
            summary[outcome] = summary.get(outcome, 0) + 1
    return summary


def advance(request_id: str, has_time: Any) -> str:
    from chalicelib.services.rights.access import run_access
    from chalicelib.services.rights.erasure import run_erasure

    try:
        record = PrivacyRequestRecord.get(request_id, consistent_read=True)
    except PrivacyRequestRecord.DoesNotExist:
        return "unfinished"
    if record.status in FINAL:
        return record.status
    if record.status == "pending_verification":
        if record.created_at + VERIFY_WITHIN <= clock.now():
            _close(record, "expired", notify=False)
            return "expired"
        return "waiting"
    if record.status == "verified":
        record.update(actions=[PrivacyRequestRecord.status.set("in_progress")])
    if record.type == "access":
        run_access(record)
    elif not run_erasure(record, has_time):
        return "unfinished"
    return record.status


def reject(record: PrivacyRequestRecord, reason: str, notify: bool = True) -> None:
    record.update(actions=[PrivacyRequestRecord.rejection_reason.set(reason)])
    _close(record, "rejected", notify=notify)


def finish(record: PrivacyRequestRecord, keep_request_key: bool = False) -> None:
    _close(record, "completed", notify=True, keep_request_key=keep_request_key)


def _close(record: PrivacyRequestRecord, status: str, notify: bool, keep_request_key: bool = False) -> None:
    """Final status; tell the person, then shred what identified them on the request itself."""
    from chalicelib.services.rights.messages import send_outcome

    record.status = status
    if notify and record.identifier_sealed:
        try:
            to = envelope.unseal(record.tenant_id, record.request_id, "identifier", record.identifier_sealed)
        except SubjectKeyMissing:
            to = None
        if to:
            send_outcome(record, to)
    record.update(actions=[
        PrivacyRequestRecord.status.set(status),
        PrivacyRequestRecord.completed_at.set(clock.now()),
        PrivacyRequestRecord.identifier_sealed.remove(),
        PrivacyRequestRecord.person_refs.remove(),
        PrivacyRequestRecord.lead_ids.remove(),
        PrivacyRequestRecord.code_hash.remove(),
        PrivacyRequestRecord.phase.set("done"),
        PrivacyRequestRecord.work_pk.remove(),
        PrivacyRequestRecord.work_sk.remove(),
    ])
    if not keep_request_key:
        try:
            envelope.destroy_subject(record.tenant_id, record.request_id)
        except Exception:  # noqa: BLE001 - already gone is fine; the identifier attribute is removed anyway
            envelope.forget_key(record.tenant_id, record.request_id)
