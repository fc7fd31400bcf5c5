"""The preferences link: a signed, expiring token in every message we send.

It lets a person see and change their marketing choices without an account or API key. The
token names the tenant and the person's ledger owner (ids we minted, no personal data) and is
signed with HMAC under the tenant's secret, so it cannot be forged or moved to another tenant.
"""

from __future__ import annotations

import base64
import hmac
import json
from datetime import timedelta
from typing import Any

from pydantic import Field

from chalicelib import clock
from chalicelib.config import get_settings
from chalicelib.errors import NotFound, Unauthorized, ValidationFailed
from chalicelib.services import event_log
from chalicelib.services.rights.ledger import current_state
from chalicelib.services.rights.people import Located, locate_owner
from chalicelib.services.rights.purposes import MARKETING, Purpose, consent_summary
from chalicelib.services.tenants.tenancy import TENANT_ID, Tenant, expiry, require_tenant
from chalicelib.services.validation import StrictInput, parse_input
from chalicelib.store import consents, leads
from chalicelib.store.changes import save
from chalicelib.vault.blind_index import blind_index
from chalicelib.vault.minimise import truncate_ip

TOKEN_DAYS = 30
_INVALID = "The link is not valid."


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(tenant: Tenant, payload: str) -> str:
    return blind_index(tenant, "preferences-token", payload)


def issue_token(tenant: Tenant, owner: str, days: int = TOKEN_DAYS) -> str:
    expires = int((clock.now() + timedelta(days=days)).timestamp())
    payload = _b64(json.dumps({"t": tenant.tenant_id, "o": owner, "e": expires}, separators=(",", ":")).encode())
    return f"{payload}.{_mac(tenant, payload)}"


def preferences_url(tenant: Tenant, owner: str) -> str:
    """The hosted preferences page; the token rides in the fragment, which browsers never send to a server."""
    return f"{get_settings().public_url}/v1/pages/preferences#token={issue_token(tenant, owner)}"


def read_token(token: object) -> tuple[Tenant, str]:
    """``(tenant, owner)`` of a valid token; anything tampered, malformed or expired is 401.

    Only the token can make it 401: a failure to check it (the master key unreachable, say) is ours, a 500.
    """
    if not isinstance(token, str) or len(token) > 1024 or token.count(".") != 1:
        raise Unauthorized(_INVALID)
    payload, mac = token.split(".")
    try:
        data = json.loads(_unb64(payload))
        tenant_id, owner, expires = str(data["t"]), str(data["o"]), int(data["e"])
    except (ValueError, KeyError, TypeError, OverflowError):  # OverflowError: "e": Infinity or 1e400
        raise Unauthorized(_INVALID) from None
    if not TENANT_ID.match(tenant_id):
        raise Unauthorized(_INVALID)
    try:
        tenant = require_tenant(tenant_id)
    except NotFound:  # a tenant that does not exist signed nothing
        raise Unauthorized(_INVALID) from None
    if not hmac.compare_digest(_mac(tenant, payload), mac):
        raise Unauthorized(_INVALID)
    if expires < clock.now().timestamp():
        raise Unauthorized("The link has expired; use the one in a newer message.")
    return tenant, owner


def _marketing_state(tenant: Tenant, owner: str, person: Located | None = None) -> dict[str, bool]:
    """Every marketing purpose, on or off, as the owner's ledger says now."""
    person = person or locate_owner(tenant.tenant_id, owner)
    state = current_state(consents.entries(tenant.tenant_id, [owner]), person.suppressed)
    return {purpose: state.get(purpose, False) for purpose in sorted(MARKETING)}


def get_preferences(token: str | None) -> dict[str, Any]:
    """The person's marketing choices; the token comes from a header or a body, never from a URL."""
    tenant, owner = read_token(token)
    return {"grants": _marketing_state(tenant, owner)}


class PreferencesReadInput(StrictInput):
    token: str


def read_preferences(body: dict[str, Any]) -> dict[str, Any]:
    """``POST /v1/preferences/read``: a bad or missing token is 401 before the body's other keys are looked at."""
    tenant, owner = read_token(body.get("token") if isinstance(body, dict) else None)
    parse_input(PreferencesReadInput, body)
    return {"grants": _marketing_state(tenant, owner)}


class PreferencesInput(StrictInput):
    token: str
    grants: dict[Purpose, bool] = Field(min_length=1, max_length=3)


def set_preferences(body: dict[str, Any], source_ip: str | None) -> dict[str, Any]:
    """Record the person's marketing choices as new ledger entries."""
    tenant, owner = read_token(body.get("token") if isinstance(body, dict) else None)
    data = parse_input(PreferencesInput, body)
    grants = {str(purpose): value for purpose, value in data.grants.items()}
    if set(grants) - MARKETING:
        raise ValidationFailed(details=[{"field": "grants", "problem": "only marketing choices change here"}])
    now = clock.now()
    info = {"grants": grants, "source": "preferences_link", "ip_prefix": truncate_ip(source_ip)}
    save(consents.new_entry(tenant.tenant_id, owner, now, expiry(tenant, "consents", now), info),
         event_log.consent_changed(tenant, owner, list(grants), "preferences_link"))
    person = locate_owner(tenant.tenant_id, owner)
    if person.lead is not None:
        leads.set_consents(person.lead, lambda current: consent_summary(current, grants, person.suppressed))
    return {"grants": _marketing_state(tenant, owner, person)}
