"""Privacy requests (access, erasure): intake, one-time code, status, export.

Intake always answers 202 with the same shape, so nobody learns whether data about a person
exists. The code goes to the e-mail or phone given; it is stored only as an HMAC, lives ten
minutes and allows three attempts. The worker (:mod:`chalicelib.services.rights.worker`) does
the work once a request is verified.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import Any, Literal

from pydantic import ConfigDict, StrictBool

from chalicelib import clock
from chalicelib.errors import (
    CodeExpired,
    DownloadTokenRequired,
    Forbidden,
    Gone,
    InvalidCode,
    NotFound,
    Unauthorized,
    VerificationLocked,
)
from chalicelib.services import audit
from chalicelib.services.access import budgets
from chalicelib.services.access.auth import Caller
from chalicelib.services.access.budgets import Outgoing, Spender
from chalicelib.services.rights import erasure, exports, lifecycle
from chalicelib.services.rights.messages import send_code
from chalicelib.services.rights.people import identify
from chalicelib.services.rights.purposes import CHANNEL_OF
from chalicelib.services.tenants.tenancy import Tenant, require_tenant, retention_days
from chalicelib.services.validation import StrictInput, parse_input, present
from chalicelib.store import privacy
from chalicelib.store.privacy import PrivacyRequest
from chalicelib.vault.blind_index import blind_index

REQUEST_ID_PREFIX = "prq_"
CODE_MINUTES = 10
MAX_ATTEMPTS = 3
DEFAULT_DUE_DAYS = 30


class RequestInput(StrictInput):
    model_config = ConfigDict(json_schema_extra={**present("email", "phone", exactly_one=True),
                                                 "examples": [{"type": "access", "email": "asha.rao@example.com"}]})

    type: Literal["erasure", "access"]
    email: str | None = None
    phone: str | None = None
    verified_by_admin: StrictBool = False


class VerifyInput(StrictInput):
    code: str


def _code_hash(tenant: Tenant, request_id: str, code: str) -> str:
    return blind_index(tenant, "otp", f"{request_id}:{code}")


def file_request(caller: Caller, body: dict[str, Any], source_ip: str | None = None) -> dict[str, Any]:
    """File a request and send its code; the answer never says whether data exists."""
    data = parse_input(RequestInput, body)
    if data.verified_by_admin and caller.role != "admin":
        raise Forbidden("Only admins may file a request as verified.")
    tenant = require_tenant(caller.tenant_id)
    identifier = identify(tenant, {"email": data.email, "phone": data.phone})
    channel = CHANNEL_OF[identifier.kind]
    sends_code = not data.verified_by_admin
    # Over any budget (the key's, the tenant's, the client's, or this address's codes from this
    # requester) the request is refused before anything is stored or sent, alike for everyone.
    budgets.charge(Spender(tenant, caller.key_id, caller.role, source_ip), "privacy_requests",
                   Outgoing(channel, identifier.ref, "code") if sends_code else None)
    now = clock.now()
    request_id = REQUEST_ID_PREFIX + secrets.token_hex(16)
    due_at = now + timedelta(days=int(tenant.privacy_due_days or DEFAULT_DUE_DAYS))
    code = f"{secrets.randbelow(10**6):06d}" if sends_code else None
    request = privacy.create(
        request_id, tenant.tenant_id,
        request_type=data.type,
        kind=identifier.kind,
        identifier=identifier.value,
        identifier_ref=identifier.ref,
        channel=channel,
        created_by_key_id=caller.key_id,
        verified_by_admin=data.verified_by_admin,
        now=now,
        due_at=due_at,
        # The receipt outlives the request's work as long as the audit trail does (a year at least).
        expires_at=now + timedelta(days=max(retention_days(tenant, "audit"), 365)),
        code_hash=_code_hash(tenant, request_id, code) if code is not None else None,
        code_expires_at=now + timedelta(minutes=CODE_MINUTES) if code is not None else None,
    )
    action = "privacy_request.file_verified_by_admin" if data.verified_by_admin else "privacy_request.file"
    audit.record(caller.tenant_id, caller.key_id, action, request_id)
    if code is not None:
        send_code(tenant, request, identifier.value, code)
    return {"request_id": request_id, "status": request.status, "due_at": clock.iso(due_at)}


def _well_formed(request_id: object) -> bool:
    return isinstance(request_id, str) and request_id.startswith(REQUEST_ID_PREFIX) and len(request_id) == 36


def visible_request(caller: Caller, request_id: str) -> PrivacyRequest:
    """Admins of the tenant, or the widget key that filed it; anyone else gets ``not_found``."""
    request = privacy.get(request_id) if _well_formed(request_id) else None
    if request is None or request.tenant_id != caller.tenant_id:
        raise NotFound("No such request.")
    if caller.role != "admin" and request.created_by_key_id != caller.key_id:
        raise NotFound("No such request.")
    return request


def verify(caller: Caller, request_id: str, body: dict[str, Any]) -> dict[str, str]:
    """Check a code. The attempt is counted (conditionally) before the code is compared, so
    parallel guesses cannot get past the limit."""
    data = parse_input(VerifyInput, body)
    request = visible_request(caller, request_id)
    if request.status != "pending_verification":
        if request.rejection_reason == "verification_locked":
            raise VerificationLocked()
        return {"status": request.status}
    now = clock.now()
    if request.code_expires_at is not None and request.code_expires_at <= now:
        raise CodeExpired()
    if not privacy.count_attempt(request, MAX_ATTEMPTS):
        raise VerificationLocked()
    tenant = require_tenant(request.tenant_id)
    if not hmac.compare_digest(request.code_hash or "", _code_hash(tenant, request.request_id, data.code.strip())):
        if request.attempts >= MAX_ATTEMPTS:
            # Too many wrong codes: the request ends, and its copy of the identifier is shredded at once.
            lifecycle.reject(tenant, request, "verification_locked", notify=False)
            raise VerificationLocked()
        raise InvalidCode()
    if not privacy.mark_verified(request, now):
        current = privacy.get(request_id)
        return {"status": current.status if current is not None else request.status}
    audit.record(request.tenant_id, caller.key_id, "privacy_request.verify", request.request_id)
    return {"status": "verified"}


def request_view(request: PrivacyRequest) -> dict[str, Any]:
    receipt = privacy.receipt_of(request)
    view = {"request_id": request.request_id, "type": request.type, "status": request.status,
            "due_at": clock.iso(request.due_at),
            "completed_at": clock.iso(request.completed_at) if request.completed_at else None,
            "receipt": receipt or None}
    if request.rejection_reason:
        view["rejection_reason"] = request.rejection_reason
    return view


def get_request(caller: Caller, request_id: str) -> dict[str, Any]:
    """The request; to an admin, an erasure's proof of propagation too (which of the tenant's webhooks were
    told and acknowledged: the tenant's own set-up, not the person's business)."""
    request = visible_request(caller, request_id)
    view = request_view(request)
    told = erasure.propagation(request) if caller.role == "admin" else None
    if told is not None:
        view["webhooks"] = told
    return view


def get_export(caller: Caller, request_id: str, download_token: str | None = None) -> dict[str, Any]:
    """An access request's export while it lasts (seven days after completion).

    Admins read it with their key (audited). The public widget key is not enough: it must bring
    the single-use token of the download link sent to the verified address.
    """
    request = visible_request(caller, request_id)
    if caller.role != "admin" and not download_token:
        raise DownloadTokenRequired()
    export = exports.ready_export(request)
    if caller.role != "admin":
        exports.spend_download(download_token or "", request)
    return exports.open_export(request, export, caller.key_id)


class DownloadInput(StrictInput):
    token: str


def download(request_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /v1/privacy-requests/{id}/download``: the export behind the link sent to the person (no key).

    Everything is checked before the single-use token is spent, so a failure never uses it up; and
    without the token nothing about the request shows (no request, not ready, expired: all 401).
    """
    data = parse_input(DownloadInput, body)
    request = privacy.get(request_id) if _well_formed(request_id) else None
    if request is None:
        raise Unauthorized(exports.BAD_LINK)
    try:
        export = exports.ready_export(request)
    except (NotFound, Gone):
        raise Unauthorized(exports.BAD_LINK) from None
    exports.spend_download(data.token, request)
    return exports.open_export(request, export, "download_link")
