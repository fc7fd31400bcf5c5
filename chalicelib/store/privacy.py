"""The privacy-requests repository: access and erasure requests, their work queue, and access exports.

It owns the request item's formats (the work shards and their positions, ``<kind>:<blind index>``
identifier references, the ``export#`` key), the request's own data key (it seals the
requester's identifier and the export), and the conditional writes of the request's lifecycle,
which come back as ``True``/``False``. Services read :class:`PrivacyRequest` items and never
build one or an update.

Every write here is a single-item call, but for an access export's parts (written in batches).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from chalicelib import clock
from chalicelib.logs import log_exception
from chalicelib.store import atomic
from chalicelib.store.base import plain
from chalicelib.store.batch import BATCH_WRITE_LIMIT, get_all, write_all
from chalicelib.store.conditional import applied
from chalicelib.store.models.privacy import WORK_SHARDS, ExportRecord, PrivacyRequestRecord
from chalicelib.vault.envelope import SubjectKey, SubjectKeyMissing, destroy_subject, new_subject, stored_key

# What services hold: a request and an export as read (attributes to read, never to set).
PrivacyRequest = PrivacyRequestRecord
Export = ExportRecord

IDENTIFIER = "identifier"
EXPORT = "export"

__all__ = ["WORK_SHARDS", "Export", "PrivacyRequest"]


# --- keys and formats ---------------------------------------------------------------------

def _work_keys(request_id: str, due_at: datetime) -> tuple[str, str]:
    """The open-requests index position: a shard from the id, then due date order."""
    return f"work#{int(request_id[-2:], 16) % WORK_SHARDS}", f"{clock.sort_stamp(due_at)}#{request_id}"


OPEN = "open"
# Where a request sits in its tenant's list: "<stamp>#<request id>".
LIST_POSITION = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z#prq_[0-9a-f]{32}$")


def _list_keys(tenant_id: str, group: str, moment: datetime, request_id: str) -> tuple[str, str]:
    """The tenant list's position: its open partition by due date, or its final status's by completion."""
    return f"{tenant_id}#{group}", f"{clock.sort_stamp(moment)}#{request_id}"


def is_list_position(value: object) -> bool:
    """Whether a position from a cursor is one the tenant's list gives out."""
    return isinstance(value, str) and bool(LIST_POSITION.match(value))


def _export_key(request_id: str) -> str:
    return f"export#{request_id}"


def _ref(kind: str, ref: str) -> str:
    return f"{kind}:{ref}"


def _parse(reference: str) -> tuple[str, str]:
    kind, ref = reference.split(":", 1)
    return kind, ref


def _key_of(request: PrivacyRequest) -> SubjectKey:
    """The request's own data key (in the person-keys table): it seals the requester's identifier and the export."""
    return stored_key(request.tenant_id, request.request_id)


def identifier_of(request: PrivacyRequest) -> tuple[str, str]:
    """``(kind, blind index)`` of the identifier the request was filed with (it outlives the request's key)."""
    return _parse(request.identifier_ref)


def person_refs_of(request: PrivacyRequest) -> dict[str, str]:
    """Every identifier of the person being erased, by kind (the filed one until the plan is fixed)."""
    return dict(_parse(reference) for reference in request.person_refs or [request.identifier_ref])


def receipt_of(request: PrivacyRequest) -> dict[str, int]:
    return {name: int(count) for name, count in plain(request.receipt).items()}


def lead_ids_of(request: PrivacyRequest) -> list[str]:
    return list(request.lead_ids or [])


# --- reading ------------------------------------------------------------------------------

def get(request_id: str) -> PrivacyRequest | None:
    """The request (strongly consistent); None when there is none."""
    try:
        return PrivacyRequestRecord.get(request_id, consistent_read=True)
    except PrivacyRequestRecord.DoesNotExist:
        return None


def open_request_ids() -> Iterator[str]:
    """Ids of requests with work left, shard by shard, soonest due first within a shard."""
    for shard in range(WORK_SHARDS):
        for item in PrivacyRequestRecord.open_requests.query(f"work#{shard}"):
            yield item.request_id


def tenant_page(tenant_id: str, group: str, status: str | None, limit: int,
                after: str | None) -> tuple[list[PrivacyRequest], str | None]:
    """One page of a tenant's list (one query; more only when ``status`` filters some out): ``open`` soonest due
    first, a final status newest first. Items carry the listed attributes only. Also the position to resume
    after, if there may be more."""
    descending = group != OPEN
    start = ({"list_pk": {"S": f"{tenant_id}#{group}"}, "list_sk": {"S": after},
              "request_id": {"S": after.rsplit("#", 1)[1]}} if after else None)
    query = PrivacyRequestRecord.tenant_requests.query(
        f"{tenant_id}#{group}", scan_index_forward=not descending, limit=limit, page_size=limit,
        last_evaluated_key=start, filter_condition=PrivacyRequestRecord.status == status if status else None)
    items = list(query)
    return items, (str(items[-1].list_sk) if items and query.last_evaluated_key else None)


_UNLISTED_ATTRIBUTES = ["request_id", "tenant_id", "status", "created_at", "due_at", "completed_at"]


def unlisted_requests() -> Iterator[PrivacyRequest]:
    """Requests filed before the tenant's list existed (no list position), with only what places them.

    A Scan, for the one-off reindex alone: no index finds a request without its tenant's list position
    (closed ones are on none), and the table holds requests and export parts only."""
    return PrivacyRequestRecord.scan(
        PrivacyRequestRecord.list_pk.does_not_exist() & PrivacyRequestRecord.request_id.startswith("prq_"),
        attributes_to_get=_UNLISTED_ATTRIBUTES, page_size=200)


def open_identifier(request: PrivacyRequest) -> str | None:
    """The requester's e-mail or phone, opened; None once it (or the request's key) is shredded."""
    if not request.identifier_sealed:
        return None
    try:
        return _key_of(request).unseal(IDENTIFIER, request.identifier_sealed)
    except SubjectKeyMissing:
        return None


# --- writing ------------------------------------------------------------------------------

def create(
    request_id: str,
    tenant_id: str,
    *,
    request_type: str,
    kind: str,  # of the identifier given: email or phone
    identifier: str,  # normalised
    identifier_ref: str,  # its blind index
    channel: str,
    created_by_key_id: str,
    verified_by_admin: bool,
    now: datetime,
    due_at: datetime,
    expires_at: datetime,
    code_hash: str | None = None,
    code_expires_at: datetime | None = None,
) -> PrivacyRequest:
    """Store a new request on the work queue; the identifier is sealed under a key minted for the request alone."""
    key = new_subject(tenant_id, subject_id=request_id).key
    work_pk, work_sk = _work_keys(request_id, due_at)
    list_pk, list_sk = _list_keys(tenant_id, OPEN, due_at, request_id)
    request = PrivacyRequestRecord(
        request_id,
        tenant_id=tenant_id,
        type=request_type,
        status="verified" if verified_by_admin else "pending_verification",
        channel=channel,
        identifier_sealed=key.seal(IDENTIFIER, identifier),
        identifier_ref=_ref(kind, identifier_ref),
        created_by_key_id=created_by_key_id,
        verified_by_admin=verified_by_admin,
        created_at=now,
        due_at=due_at,
        verified_at=now if verified_by_admin else None,
        code_hash=code_hash,
        code_expires_at=code_expires_at,
        work_pk=work_pk,
        work_sk=work_sk,
        list_pk=list_pk,
        list_sk=list_sk,
        expires_at=expires_at,
    )
    request.save()
    return request


def count_attempt(request: PrivacyRequest, max_attempts: int) -> bool:
    """Count one code attempt if the request still waits for its code and has attempts left; False if not.
    ``request.attempts`` is the new count afterwards.

    The count carries a token, so the SDK's retry of a count whose answer was lost is refused by
    its own first attempt and recognised as it, never counted twice.
    """
    token = secrets.token_hex(8)

    def mine() -> bool:
        return _took(request, lambda stored: stored.attempt_token == token)

    return applied(request.update, mine=mine,
                   actions=[PrivacyRequestRecord.attempts.add(1), PrivacyRequestRecord.attempt_token.set(token)],
                   condition=(PrivacyRequestRecord.attempts < max_attempts)
                   & (PrivacyRequestRecord.status == "pending_verification")
                   & (PrivacyRequestRecord.attempt_token.does_not_exist()
                      | (PrivacyRequestRecord.attempt_token != token)))


def _took(request: PrivacyRequest, ours: Any) -> bool:
    """Whether the stored request shows our write (then ``request`` takes its values)."""
    stored = get(request.request_id)
    if stored is None or not ours(stored):
        return False
    request.attribute_values = stored.attribute_values
    return True


def mark_verified(request: PrivacyRequest, now: datetime) -> bool:
    """The code was right: verified (and its hash dropped), unless the request moved on meanwhile (False).
    Verified at this very instant, it is this write, retried by the SDK after a lost answer."""
    return applied(request.update, mine=lambda: _took(request, lambda stored: stored.verified_at == now),
                   actions=[PrivacyRequestRecord.status.set("verified"), PrivacyRequestRecord.verified_at.set(now),
                            PrivacyRequestRecord.code_hash.remove()],
                   condition=PrivacyRequestRecord.status == "pending_verification")


def start(request: PrivacyRequest) -> None:
    """The worker takes a verified request on."""
    request.update(actions=[PrivacyRequestRecord.status.set("in_progress")])


def set_rejection(request: PrivacyRequest, reason: str) -> None:
    request.update(actions=[PrivacyRequestRecord.rejection_reason.set(reason)])


def plan_erasure(request: PrivacyRequest, lead_ids: list[str], refs: dict[str, str], receipt: dict[str, int]) -> None:
    """Fix what the erasure covers (leads, the person's identifiers, the counts so far); next phase: shred."""
    request.update(actions=[
        PrivacyRequestRecord.phase.set("shred"),
        PrivacyRequestRecord.lead_ids.set(lead_ids),
        PrivacyRequestRecord.person_refs.set([_ref(kind, ref) for kind, ref in sorted(refs.items())]),
        PrivacyRequestRecord.receipt.set(receipt),
    ])


def set_phase(request: PrivacyRequest, phase: str, erased_events: list[str] | None = None) -> None:
    """Move to ``phase``; with ``erased_events``, also keep the ids of the events the erasure wrote."""
    actions: list[Any] = [PrivacyRequestRecord.phase.set(phase)]
    if erased_events is not None:
        actions.append(PrivacyRequestRecord.erased_events.set(erased_events))
    request.update(actions=actions)


def erased_events_of(request: PrivacyRequest) -> list[str]:
    return list(request.erased_events or [])


def set_receipt(request: PrivacyRequest, receipt: dict[str, int], phase: str | None = None) -> None:
    """Replace the receipt's counts (and move to ``phase``, when given)."""
    actions: list[Any] = [PrivacyRequestRecord.receipt.set(receipt)]
    if phase is not None:
        actions.append(PrivacyRequestRecord.phase.set(phase))
    request.update(actions=actions)


def close(request: PrivacyRequest, status: str, now: datetime, event: Any = None) -> None:
    """Final status; off the work queue and into its status's part of the tenant's list, and what identified the
    person on the request is removed.

    With an ``event`` (the event log's), both are one transaction: one exists only with the other. The
    request object is then not refreshed; read it again to see it.
    """
    actions = [
        PrivacyRequestRecord.status.set(status),
        PrivacyRequestRecord.completed_at.set(now),
        PrivacyRequestRecord.identifier_sealed.remove(),
        PrivacyRequestRecord.person_refs.remove(),
        PrivacyRequestRecord.lead_ids.remove(),
        PrivacyRequestRecord.code_hash.remove(),
        PrivacyRequestRecord.phase.set("done"),
        PrivacyRequestRecord.work_pk.remove(),
        PrivacyRequestRecord.work_sk.remove(),
    ]
    list_pk, list_sk = _list_keys(request.tenant_id, status, now, request.request_id)
    actions += [PrivacyRequestRecord.list_pk.set(list_pk), PrivacyRequestRecord.list_sk.set(list_sk)]
    if event is None:
        request.update(actions=actions)
    else:
        atomic.commit([atomic.update(request, actions), atomic.put(event)])


def fill_list_position(request: PrivacyRequest, group: str, moment: datetime) -> bool:
    """Give a request filed before the tenant's list its place there (``group``: ``open`` or its final status),
    only if it still has none and its status is still the one read; False when not (a write since placed it,
    or it moved on: the next run places it). Safe to run again and to interrupt."""
    list_pk, list_sk = _list_keys(request.tenant_id, group, moment, request.request_id)

    def mine() -> bool:
        stored = get(request.request_id)
        return stored is not None and (stored.list_pk, stored.list_sk) == (list_pk, list_sk)

    return applied(request.update, mine=mine,
                   actions=[PrivacyRequestRecord.list_pk.set(list_pk), PrivacyRequestRecord.list_sk.set(list_sk)],
                   condition=PrivacyRequestRecord.request_id.exists() & PrivacyRequestRecord.list_pk.does_not_exist()
                   & (PrivacyRequestRecord.status == request.status))


def shred_key(request: PrivacyRequest) -> bool:
    """Crypto-shred the request's own key; a key already gone is no error (the delete is unconditional).

    False when DynamoDB refused the delete (throttled, say): logged as an error here, for the caller to count.
    """
    from pynamodb.exceptions import DeleteError

    try:
        destroy_subject(request.tenant_id, request.request_id)
    except DeleteError as error:
        log_exception("privacy_request_key_not_shredded", error, request_id=request.request_id)
        return False
    return True


# --- exports ------------------------------------------------------------------------------
#
# An export of any size: its bytes (compressed by the caller) are cut into parts well under DynamoDB's
# 400 KB item limit, each sealed under the request's key and stored as an item of its own, with the
# same expiry. The parts are written in batches, then the manifest that names them: a reader finds the
# whole export or none, never half of one. Each write has a generation of its own, so a rerun (after a
# crash) never mixes its parts with an earlier run's; parts no manifest names are left to expire.
# Every part is bound to its place (generation, index, count) by its seal: none can be swapped or cut.

EXPORT_PART_BYTES = 256 * 1024
EXPORT_PARTS_PER_READ = 32  # 8 MB a BatchGetItem, under its 16 MB answer


class ExportIncomplete(RuntimeError):
    """A manifest names a part that is not there (never expected: the manifest is written last)."""


def _part_key(request_id: str, generation: str, index: int) -> str:
    return f"export#{request_id}#{generation}#{index}"


def _part_field(generation: str, index: int, count: int) -> str:
    return f"{EXPORT}:{generation}:{index}/{count}"


def save_export(request: PrivacyRequest, data: bytes, expires_at: datetime) -> int:
    """Store an access request's export in parts sealed under the request's own key, then its manifest;
    returns the number of parts."""
    key, generation = _key_of(request), secrets.token_hex(8)
    count = max(1, -(-len(data) // EXPORT_PART_BYTES))

    def part(index: int) -> ExportRecord:
        chunk = data[index * EXPORT_PART_BYTES : (index + 1) * EXPORT_PART_BYTES]
        return ExportRecord(_part_key(request.request_id, generation, index), tenant_id=request.tenant_id,
                            sealed=key.seal_bytes(_part_field(generation, index, count), chunk), expires_at=expires_at)

    for first in range(0, count, BATCH_WRITE_LIMIT):  # sealed a batch at a time: one sealed copy at most
        write_all([part(index) for index in range(first, min(count, first + BATCH_WRITE_LIMIT))])
    ExportRecord(_export_key(request.request_id), tenant_id=request.tenant_id, parts=count, generation=generation,
                 expires_at=expires_at).save()
    return count


def live_export(request: PrivacyRequest) -> Export | None:
    """The request's export (its manifest) while it lasts; None when there is none or it has expired."""
    try:
        export = ExportRecord.get(_export_key(request.request_id), consistent_read=True)
    except ExportRecord.DoesNotExist:
        return None
    return export if export.expires_at > clock.now() else None


def export_chunks(request: PrivacyRequest, export: Export) -> Iterator[bytes]:
    """The export's bytes, part after part, opened (a few parts read at a time, strongly consistent)."""
    key = _key_of(request)
    if export.parts is None:  # stored whole, before exports had parts
        yield key.unseal_bytes(EXPORT, export.sealed)
        return
    count, generation = int(export.parts), str(export.generation)
    for first in range(0, count, EXPORT_PARTS_PER_READ):
        wanted = [_part_key(request.request_id, generation, index)
                  for index in range(first, min(count, first + EXPORT_PARTS_PER_READ))]
        found = get_all([(ExportRecord, part_key) for part_key in wanted])
        for index, part_key in enumerate(wanted, start=first):
            part = found.get(part_key)
            if not isinstance(part, ExportRecord) or part.sealed is None:
                raise ExportIncomplete(f"export part {index} of {count} is missing")
            yield key.unseal_bytes(_part_field(generation, index, count), part.sealed)
