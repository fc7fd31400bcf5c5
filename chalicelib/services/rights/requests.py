"""Privacy requests (access, erasure): intake, one-time code, status, export.

Intake always answers 202 with the same shape, so nobody learns whether data about a person
exists. The code goes to the e-mail or phone given; it is stored only as an HMAC, lives ten
minutes and allows three attempts. The worker (:mod:`chalicelib.services.rights.worker`) does
the work once a request is verified.
"""

from __future__ import annotations

import hmac
import secrets
import zlib
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import ConfigDict, StrictBool

from chalicelib import clock
from chalicelib.errors import Forbidden, Gone, LeadVaultError, NotFound, RateLimited, Unauthorized
from chalicelib.services import audit
from chalicelib.services.access import budgets
from chalicelib.services.access.auth import Caller
from chalicelib.services.access.budgets import Outgoing, Spender
from chalicelib.services.rights import one_time
from chalicelib.services.rights.people import identify
from chalicelib.services.rights.purposes import CHANNEL_OF
from chalicelib.services.tenants.tenancy import require_tenant, retention_days
from chalicelib.services.validation import StrictInput, parse_input, present
from chalicelib.store.base import plain
from chalicelib.store.models.privacy import WORK_SHARDS, ExportRecord, PrivacyRequestRecord
from chalicelib.vault import envelope

REQUEST_ID_PREFIX = "prq_"
CODE_MINUTES = 10
MAX_ATTEMPTS = 3
DEFAULT_DUE_DAYS = 30
VERIFY_WITHIN = timedelta(hours=24)
EXPORT_DAYS = 7
FINAL = frozenset({"completed", "rejected", "expired"})


class InvalidCode(LeadVaultError):
    code = "invalid_code"
    default_message = "That code is not right."


class VerificationLocked(RateLimited):
    code = "verification_locked"
    default_message = "Too many wrong codes; file a new request."


class CodeExpired(Gone):
    code = "code_expired"
    default_message = "The code has expired; file a new request."


class RequestInput(StrictInput):
    model_config = ConfigDict(json_schema_extra={**present("email", "phone", exactly_one=True),
                                                 "examples": [{"type": "access", "email": "asha.rao@example.com"}]})

    type: Literal["erasure", "access"]
    email: str | None = None
    phone: str | None = None
    verified_by_admin: StrictBool = False


class VerifyInput(StrictInput):
    code: str


def _code_hash(tenant_id: str, request_id: str, code: str) -> str:
    from chalicelib.vault.blind_index import blind_index

    return blind_index(tenant_id, "otp", f"{request_id}:{code}")


def work_keys(request_id: str, due_at: datetime) -> tuple[str, str]:
    return f"work#{int(request_id[-2:], 16) % WORK_SHARDS}", f"{clock.sort_stamp(due_at)}#{request_id}"


def file_request(caller: Caller, body: dict[str, Any], source_ip: str | None = None) -> dict[str, Any]:
    """File a request and send its code; the answer never says whether data exists."""
    from chalicelib.services.rights.messages import send_code

    data = parse_input(RequestInput, body)
    if data.verified_by_admin and caller.role != "admin":
        raise Forbidden("Only admins may file a request as verified.")
    identifier = identify(caller.tenant_id, {"email": data.email, "phone": data.phone})
    tenant = require_tenant(caller.tenant_id)
    channel = CHANNEL_OF[identifier.kind]
    sends_code = not data.verified_by_admin
    # Over any budget (the key's, the tenant's, the client's, or this address's codes from this
    # requester) the request is refused before anything is stored or sent, alike for everyone.
    budgets.charge(Spender(tenant, caller.key_id, caller.role, source_ip), "privacy_requests",
                   Outgoing(channel, identifier.ref, "code") if sends_code else None)
    now = clock.now()
    request_id = REQUEST_ID_PREFIX + secrets.token_hex(16)
    due_at = now + timedelta(days=int(tenant.privacy_due_days or DEFAULT_DUE_DAYS))
    subject = envelope.new_subject(caller.tenant_id, subject_id=request_id)
    record = PrivacyRequestRecord(
        request_id,
        tenant_id=caller.tenant_id,
        type=data.type,
        status="verified" if data.verified_by_admin else "pending_verification",
        channel=channel,
        identifier_sealed=envelope.seal(caller.tenant_id, subject.subject_id, "identifier", identifier.value),
        identifier_ref=f"{identifier.kind}:{identifier.ref}",
        created_by_key_id=caller.key_id,
        verified_by_admin=data.verified_by_admin,
        created_at=now,
        due_at=due_at,
        verified_at=now if data.verified_by_admin else None,
        expires_at=now + timedelta(days=max(retention_days(caller.tenant_id, "audit"), 365)),
    )
    record.work_pk, record.work_sk = work_keys(request_id, due_at)
    code = None
    if sends_code:
        code = f"{secrets.randbelow(10**6):06d}"
        record.code_hash = _code_hash(caller.tenant_id, request_id, code)
        record.code_expires_at = now + timedelta(minutes=CODE_MINUTES)
    record.save()
    action = "privacy_request.file_verified_by_admin" if data.verified_by_admin else "privacy_request.file"
    audit.record(caller.tenant_id, caller.key_id, action, request_id)
    if code is not None:
        send_code(record, identifier.value, code)
    return {"request_id": request_id, "status": record.status, "due_at": clock.iso(due_at)}


def _well_formed(request_id: object) -> bool:
    return isinstance(request_id, str) and request_id.startswith(REQUEST_ID_PREFIX) and len(request_id) == 36


def visible_request(caller: Caller, request_id: str) -> PrivacyRequestRecord:
    """Admins of the tenant, or the widget key that filed it; anyone else gets ``not_found``."""
    if not _well_formed(request_id):
        raise NotFound("No such request.")
    try:
        record = PrivacyRequestRecord.get(request_id, consistent_read=True)
    except PrivacyRequestRecord.DoesNotExist:
        raise NotFound("No such request.") from None
    if record.tenant_id != caller.tenant_id:
        raise NotFound("No such request.")
    if caller.role != "admin" and record.created_by_key_id != caller.key_id:
        raise NotFound("No such request.")
    return record


def verify(caller: Caller, request_id: str, body: dict[str, Any]) -> dict[str, str]:
    """Check a code. The attempt is counted (conditionally) before the code is compared, so
    parallel guesses cannot get past the limit."""
    from pynamodb.exceptions import UpdateError

    data = parse_input(VerifyInput, body)
    record = visible_request(caller, request_id)
    if record.status != "pending_verification":
        if record.rejection_reason == "verification_locked":
            raise VerificationLocked()
        return {"status": record.status}
    now = clock.now()
    if record.code_expires_at is not None and record.code_expires_at <= now:
        raise CodeExpired()
    try:
        record.update(actions=[PrivacyRequestRecord.attempts.add(1)],
                      condition=(PrivacyRequestRecord.attempts < MAX_ATTEMPTS)
                      & (PrivacyRequestRecord.status == "pending_verification"))
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise VerificationLocked() from None
        raise
    expected = record.code_hash or ""
    if not hmac.compare_digest(expected, _code_hash(record.tenant_id, record.request_id, data.code.strip())):
        if record.attempts >= MAX_ATTEMPTS:
            _lock(record)
            raise VerificationLocked()
        raise InvalidCode()
    try:
        record.update(actions=[PrivacyRequestRecord.status.set("verified"),
                               PrivacyRequestRecord.verified_at.set(now), PrivacyRequestRecord.code_hash.remove()],
                      condition=PrivacyRequestRecord.status == "pending_verification")
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return {"status": PrivacyRequestRecord.get(request_id, consistent_read=True).status}
        raise
    audit.record(record.tenant_id, caller.key_id, "privacy_request.verify", record.request_id)
    return {"status": "verified"}


def _lock(record: PrivacyRequestRecord) -> None:
    """Too many wrong codes: the request ends, and its copy of the identifier is shredded at once."""
    from chalicelib.services.rights.worker import reject

    reject(record, "verification_locked", notify=False)


def request_view(record: PrivacyRequestRecord) -> dict[str, Any]:
    receipt = plain(record.receipt)
    view = {"request_id": record.request_id, "type": record.type, "status": record.status,
            "due_at": clock.iso(record.due_at),
            "completed_at": clock.iso(record.completed_at) if record.completed_at else None,
            "receipt": receipt or None}
    if record.rejection_reason:
        view["rejection_reason"] = record.rejection_reason
    return view


def get_request(caller: Caller, request_id: str) -> dict[str, Any]:
    return request_view(visible_request(caller, request_id))


def get_export(caller: Caller, request_id: str, download_token: str | None = None) -> dict[str, Any]:
    """An access request's export while it lasts (seven days after completion).

    Admins read it with their key (audited). The public widget key is not enough: it must bring
    the single-use token of the download link sent to the verified address.
    """
    record = visible_request(caller, request_id)
    if caller.role != "admin" and not download_token:
        raise Forbidden("Use the download link we sent to you.", code="download_token_required")
    export = _ready_export(record)
    if caller.role != "admin":
        _spend_download(download_token or "", record)
    return _open_export(record, export, caller.key_id)


class DownloadInput(StrictInput):
    token: str


_BAD_LINK = "This download link is not valid, was already used, or has expired; file a new access request."


def download(request_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /v1/privacy-requests/{id}/download``: the export behind the link sent to the person (no key).

    Everything is checked before the single-use token is spent, so a failure never uses it up; and
    without the token nothing about the request shows (no request, not ready, expired: all 401).
    """
    data = parse_input(DownloadInput, body)
    if not _well_formed(request_id):
        raise Unauthorized(_BAD_LINK)
    try:
        record = PrivacyRequestRecord.get(request_id, consistent_read=True)
        export = _ready_export(record)
    except (PrivacyRequestRecord.DoesNotExist, NotFound, Gone):
        raise Unauthorized(_BAD_LINK) from None
    _spend_download(data.token, record)
    return _open_export(record, export, "download_link")


def _spend_download(token: str, record: PrivacyRequestRecord) -> None:
    """Spend the link's token, which must be this request's (of this tenant): a wrong one stays unspent."""
    target = one_time.spend(token, one_time.DOWNLOAD, _BAD_LINK, expect={"request_id": record.request_id})
    if target["tenant_id"] != record.tenant_id:
        raise Unauthorized(_BAD_LINK)


def download_link(record: PrivacyRequestRecord) -> str:
    """Issue and store the single-use link of a completed access request's export."""
    from chalicelib.config import get_settings

    token, token_record = one_time.issue(record.tenant_id, one_time.DOWNLOAD, {"request_id": record.request_id},
                                         timedelta(days=EXPORT_DAYS))
    token_record.save()
    return f"{get_settings().public_url}/v1/pages/privacy#request={record.request_id}&download={token}"


def _ready_export(record: PrivacyRequestRecord) -> ExportRecord:
    if record.type != "access" or record.status != "completed":
        raise NotFound("No export for this request.")
    try:
        export = ExportRecord.get(f"export#{record.request_id}", consistent_read=True)
    except ExportRecord.DoesNotExist:
        export = None
    if export is None or export.expires_at <= clock.now():
        raise Gone("The export has expired.", code="export_expired")
    return export


def _open_export(record: PrivacyRequestRecord, export: ExportRecord, actor: str) -> dict[str, Any]:
    import json

    raw = envelope.unseal_bytes(record.tenant_id, record.request_id, "export", export.sealed)
    audit.record(record.tenant_id, actor, "privacy_request.export_read", record.request_id)
    return json.loads(zlib.decompress(raw))
