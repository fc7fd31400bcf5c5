"""The person's side of a grievance: raise it, prove the address with a code, and it reaches the officer.

Like a privacy request: the code goes to the e-mail or phone given, stored only as an HMAC, ten
minutes, three attempts (each counted once even when the SDK retries the count). Raising one spends
the public key's privacy-request budgets and the address's code budgets. The complaint's text is
personal data: sealed under the grievance's own key, never logged, never echoed in an error.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import Annotated, Any

from pydantic import ConfigDict, StringConstraints, model_validator

from chalicelib import clock
from chalicelib.errors import CodeExpired, InvalidCode, NotFound, VerificationLocked
from chalicelib.notify import DeliveryFailed
from chalicelib.services import audit
from chalicelib.services.access import budgets
from chalicelib.services.access.auth import Caller
from chalicelib.services.access.budgets import Outgoing, Spender
from chalicelib.services.rights.grievances import messages
from chalicelib.services.rights.grievances.officer import required_officer
from chalicelib.services.rights.people import identify
from chalicelib.services.rights.purposes import CHANNEL_OF
from chalicelib.services.tenants.tenancy import Tenant, require_tenant, retention_days
from chalicelib.services.validation import StrictInput, field_error, parse_input, present
from chalicelib.store import grievances
from chalicelib.store.grievances import Grievance
from chalicelib.vault.blind_index import blind_index

GRIEVANCE_ID_PREFIX = "grv_"
CODE_MINUTES = 10
MAX_ATTEMPTS = 3
# An unverified grievance (its text sealed on it) lasts a day, then expires with nothing kept.
VERIFY_WITHIN = timedelta(hours=24)
TEXT_MIN, TEXT_MAX = 10, 4000
# Grievances are kept as long as the audit trail, and never less than a year.
MIN_KEEP_DAYS = 365

ComplaintText = Annotated[str, StringConstraints(min_length=TEXT_MIN, max_length=TEXT_MAX)]


class GrievanceInput(StrictInput):
    model_config = ConfigDict(json_schema_extra={
        **present("email", "phone", exactly_one=True),
        "examples": [{"email": "asha.rao@example.com", "text": "You kept calling me after I said no."}]})

    email: Annotated[str, StringConstraints(max_length=254)] | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    text: ComplaintText

    @model_validator(mode="after")
    def _one_address(self) -> GrievanceInput:
        if (self.email is None) == (self.phone is None):
            raise field_error("email|phone", "give exactly one")
        return self


class GrievanceCodeInput(StrictInput):
    code: Annotated[str, StringConstraints(max_length=16)]


def keep_until(tenant: Tenant, start: Any) -> Any:
    """When a verified grievance leaves: the tenant's audit retention after ``start``, a year at least."""
    return start + timedelta(days=max(retention_days(tenant, "audit"), MIN_KEEP_DAYS))


def _code_hash(tenant: Tenant, grievance_id: str, code: str) -> str:
    return blind_index(tenant, "otp", f"{grievance_id}:{code}")


def file_grievance(caller: Caller, body: dict[str, Any], source_ip: str | None = None) -> dict[str, Any]:
    """``POST /v1/grievances``: store the complaint sealed and send a code to the address given."""
    data = parse_input(GrievanceInput, body)
    tenant = require_tenant(caller.tenant_id)
    officer = required_officer(tenant)
    identifier = identify(tenant, {"email": data.email, "phone": data.phone})
    channel = CHANNEL_OF[identifier.kind]
    # Over any budget, refused before anything is stored or sent.
    budgets.charge(Spender(tenant, caller.key_id, caller.role, source_ip), "privacy_requests",
                   Outgoing(channel, identifier.ref, "code"))
    now = clock.now()
    grievance_id = GRIEVANCE_ID_PREFIX + secrets.token_hex(16)
    due_at = now + timedelta(days=grievances.due_days_of(tenant))
    code = f"{secrets.randbelow(10**6):06d}"
    grievance = grievances.create(
        grievance_id, tenant.tenant_id, kind=identifier.kind, identifier=identifier.value,
        identifier_ref=identifier.ref, channel=channel, text=data.text, created_by_key_id=caller.key_id, now=now,
        due_at=due_at, expires_at=now + VERIFY_WITHIN, code_hash=_code_hash(tenant, grievance_id, code),
        code_expires_at=now + timedelta(minutes=CODE_MINUTES))
    audit.record(tenant, caller.key_id, "grievance.file", grievance_id)
    messages.send_code(tenant, grievance, identifier.value, code, officer)
    return {"grievance_id": grievance_id, "status": grievance.status, "due_at": clock.iso(due_at)}


def well_formed(grievance_id: object) -> bool:
    return (isinstance(grievance_id, str) and grievance_id.startswith(GRIEVANCE_ID_PREFIX)
            and len(grievance_id) == 36)


def visible_grievance(caller: Caller, grievance_id: str) -> Grievance:
    """Admins of the tenant, or the key that raised it; anyone else (another tenant too) gets ``not_found``."""
    grievance = grievances.get(grievance_id) if well_formed(grievance_id) else None
    if grievance is None or grievance.tenant_id != caller.tenant_id:
        raise NotFound("No such grievance.")
    if caller.role != "admin" and grievance.created_by_key_id != caller.key_id:
        raise NotFound("No such grievance.")
    return grievance


def verify_grievance(caller: Caller, grievance_id: str, body: dict[str, Any]) -> dict[str, str]:
    """Check a code; the attempt is counted (conditionally, once) before the code is compared."""
    data = parse_input(GrievanceCodeInput, body)
    grievance = visible_grievance(caller, grievance_id)
    tenant = require_tenant(grievance.tenant_id)
    if grievance.status != "pending_verification":
        if grievance.status == "rejected":
            raise VerificationLocked("Too many wrong codes; raise the complaint again.")
        _tell_officer(tenant, grievance)  # a retry after a notice that could not go out sends it now
        return {"status": grievance.status}
    now = clock.now()
    if grievance.code_expires_at is not None and grievance.code_expires_at <= now:
        raise CodeExpired("The code has expired; raise the complaint again.")
    if not grievances.count_attempt(grievance, MAX_ATTEMPTS):
        raise VerificationLocked("Too many wrong codes; raise the complaint again.")
    if not hmac.compare_digest(grievance.code_hash or "", _code_hash(tenant, grievance_id, data.code.strip())):
        # Its key goes: the sealed text and address never open again. Refused when the right code opened it
        # meanwhile: that grievance stands, and this code was simply wrong.
        if grievance.attempts >= MAX_ATTEMPTS and grievances.reject(grievance):
            raise VerificationLocked("Too many wrong codes; raise the complaint again.")
        raise InvalidCode()
    if not grievances.mark_open(grievance, now, keep_until(tenant, now)):
        current = grievances.get(grievance_id)
        return {"status": current.status if current is not None else grievance.status}
    audit.record(tenant, caller.key_id, "grievance.verify", grievance_id)
    _tell_officer(tenant, grievance, acknowledge=True)
    return {"status": "open"}


def _tell_officer(tenant: Tenant, grievance: Grievance, acknowledge: bool = False) -> None:
    """Notify the officer (and acknowledge to the person) once verified; a failed send is logged, not raised:
    the grievance is open and on the queue whatever the mail does, and ``officer_notified`` shows it."""
    if grievance.status != "open" or grievance.officer_notified_at is not None:
        return
    officer = grievances.officer_of(tenant)
    if officer is None:
        return
    try:
        messages.notify_officer(tenant, grievance, grievances.open_text(grievance) or "", officer)
        grievances.mark_officer_notified(grievance, clock.now())
        to = grievances.open_identifier(grievance) if acknowledge else None
        if to:
            messages.acknowledge(tenant, grievance, to, officer)
    except DeliveryFailed as failure:
        from chalicelib.logs import get_logger

        get_logger().warning("grievance_message_not_sent",
                             extra={"grievance_id": grievance.grievance_id, "permanent": failure.permanent})
