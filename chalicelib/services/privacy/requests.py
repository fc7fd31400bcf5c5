"""Privacy requests (access, erasure): intake, one-time code, status, export.

Intake always answers 202 with the same shape, so nobody learns whether data about a person
exists. The code goes to the e-mail or phone given; it is stored only as an HMAC, lives ten
minutes and allows three attempts. The worker (:mod:`chalicelib.services.privacy.worker`) does
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
from chalicelib.errors import Forbidden, Gone, LeadVaultError, NotFound, RateLimited
from chalicelib.services import audit
from chalicelib.services.auth import Caller
from chalicelib.services.people import identify
from chalicelib.services.tenancy import retention_days
from chalicelib.services.validation import StrictInput, parse_input, present
from chalicelib.store.base import plain
from chalicelib.store.privacy import WORK_SHARDS, ExportRecord, PrivacyRequestRecord
from chalicelib.vault import envelope

REQUEST_ID_PREFIX = "prq_"
CODE_MINUTES = 10
MAX_ATTEMPTS = 3
DEFAULT_DUE_DAYS = 30
VERIFY_WITHIN = timedelta(hours=24)
# Codes sent to one e-mail or phone per hour: beyond this the request is still accepted (and
# answered exactly alike) but no message goes out, so nobody can flood a person's inbox or phone.
CODES_PER_HOUR = 3
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


def file_request(caller: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """File a request and send its code; the answer never says whether data exists."""
    from chalicelib.services.privacy.messages import send_code

    data = parse_input(RequestInput, body)
    if data.verified_by_admin and caller.role != "admin":
        raise Forbidden("Only admins may file a request as verified.")
    identifier = identify(caller.tenant_id, {"email": data.email, "phone": data.phone})
    now = clock.now()
    request_id = REQUEST_ID_PREFIX + secrets.token_hex(16)
    due_at = now + timedelta(days=_due_days(caller.tenant_id))
    subject = envelope.new_subject(caller.tenant_id, subject_id=request_id)
    record = PrivacyRequestRecord(
        request_id,
        tenant_id=caller.tenant_id,
        type=data.type,
        status="verified" if data.verified_by_admin else "pending_verification",
        channel="email" if identifier.kind == "email" else "sms",
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
    if not data.verified_by_admin and _may_send_code(identifier, now):
        code = f"{secrets.randbelow(10**6):06d}"
        record.code_hash = _code_hash(caller.tenant_id, request_id, code)
        record.code_expires_at = now + timedelta(minutes=CODE_MINUTES)
    record.save()
    action = "privacy_request.file_verified_by_admin" if data.verified_by_admin else "privacy_request.file"
    audit.record(caller.tenant_id, caller.key_id, action, request_id)
    if code is not None:
        send_code(record, identifier.value, code)
    return {"request_id": request_id, "status": record.status, "due_at": clock.iso(due_at)}


def _may_send_code(identifier: Any, now: datetime) -> bool:
    from chalicelib.store.claims import bump

    pk = f"{identifier.tenant_id}#rate#otp#{identifier.kind}#{identifier.ref}#{now:%Y-%m-%dT%H}"
    return bump(pk, now + timedelta(hours=2)) <= CODES_PER_HOUR


def _due_days(tenant_id: str) -> int:
    from chalicelib.services.tenancy import require_tenant

    return int(require_tenant(tenant_id).privacy_due_days or DEFAULT_DUE_DAYS)


def visible_request(caller: Caller, request_id: str) -> PrivacyRequestRecord:
    """Admins of the tenant, or the widget key that filed it; anyone else gets ``not_found``."""
    if not isinstance(request_id, str) or not request_id.startswith(REQUEST_ID_PREFIX) or len(request_id) != 36:
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
    from chalicelib.services.privacy.worker import reject

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


def get_export(caller: Caller, request_id: str) -> dict[str, Any]:
    """An access request's export while it lasts (seven days after completion)."""
    import json

    record = visible_request(caller, request_id)
    if record.type != "access" or record.status != "completed":
        raise NotFound("No export for this request.")
    try:
        export = ExportRecord.get(f"export#{request_id}", consistent_read=True)
    except ExportRecord.DoesNotExist:
        export = None
    if export is None or export.expires_at <= clock.now():
        raise Gone("The export has expired.", code="export_expired")
    raw = envelope.unseal_bytes(record.tenant_id, request_id, "export", export.sealed)
    audit.record(record.tenant_id, caller.key_id, "privacy_request.export_read", request_id)
    return json.loads(zlib.decompress(raw))
