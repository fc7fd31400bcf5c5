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
from chalicelib.errors import Unauthorized
from chalicelib.services.rights.purposes import MARKETING, Purpose
from chalicelib.services.tenants.tenancy import TENANT_ID
from chalicelib.services.validation import StrictInput, parse_input
from chalicelib.store.base import plain
from chalicelib.store.models.timeline import TimelineRecord

TOKEN_DAYS = 30


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(tenant_id: str, payload: str) -> str:
    from chalicelib.vault.blind_index import blind_index

    return blind_index(tenant_id, "preferences-token", payload)


def issue_token(tenant_id: str, owner: str, days: int = TOKEN_DAYS) -> str:
    expires = int((clock.now() + timedelta(days=days)).timestamp())
    payload = _b64(json.dumps({"t": tenant_id, "o": owner, "e": expires}, separators=(",", ":")).encode())
    return f"{payload}.{_mac(tenant_id, payload)}"


def preferences_url(tenant_id: str, owner: str) -> str:
    """The hosted preferences page; the token rides in the fragment, which browsers never send to a server."""
    return f"{get_settings().public_url}/v1/pages/preferences#token={issue_token(tenant_id, owner)}"


def read_token(token: object) -> tuple[str, str]:
    """``(tenant_id, owner)`` of a valid token; anything tampered, malformed or expired is 401."""
    if not isinstance(token, str) or len(token) > 1024 or token.count(".") != 1:
        raise Unauthorized("The link is not valid.")
    payload, mac = token.split(".")
    try:
        data = json.loads(_unb64(payload))
        tenant_id, owner, expires = str(data["t"]), str(data["o"]), int(data["e"])
    except (ValueError, KeyError, TypeError, OverflowError):  # OverflowError: "e": Infinity or 1e400
        raise Unauthorized("The link is not valid.") from None
    if not TENANT_ID.match(tenant_id):
        raise Unauthorized("The link is not valid.")
    try:
        expected = _mac(tenant_id, payload)
    except Exception:  # noqa: BLE001 - an unknown tenant is just an invalid link
        raise Unauthorized("The link is not valid.") from None
    if not hmac.compare_digest(expected, mac):
        raise Unauthorized("The link is not valid.")
    if expires < clock.now().timestamp():
        raise Unauthorized("The link has expired; use the one in a newer message.")
    return tenant_id, owner


def _marketing_state(tenant_id: str, owner: str) -> dict[str, bool]:
    from chalicelib.services.rights.consents import current_state

    entries = [e for e in TimelineRecord.query(owner, filter_condition=TimelineRecord.type == "consent")
               if e.tenant_id == tenant_id]
    suppressed = _suppressed(tenant_id, owner)
    state = current_state(entries, suppressed)
    return {purpose: state.get(purpose, False) for purpose in sorted(MARKETING)}


def _suppressed(tenant_id: str, owner: str) -> bool:
    from chalicelib.store.models.leads import LeadRecord

    if not owner.startswith("led_"):
        return False
    try:
        return bool(LeadRecord.get(owner).marketing_suppressed)
    except LeadRecord.DoesNotExist:
        return False


def get_preferences(token: str | None) -> dict[str, Any]:
    """The person's marketing choices; the token comes from a header or a body, never from a URL."""
    tenant_id, owner = read_token(token)
    return {"grants": _marketing_state(tenant_id, owner)}


class PreferencesReadInput(StrictInput):
    token: str


def read_preferences(body: dict[str, Any]) -> dict[str, Any]:
    """``POST /v1/preferences/read``: a bad or missing token is 401 before the body's other keys are looked at."""
    tenant_id, owner = read_token(body.get("token") if isinstance(body, dict) else None)
    parse_input(PreferencesReadInput, body)
    return {"grants": _marketing_state(tenant_id, owner)}


class PreferencesInput(StrictInput):
    token: str
    grants: dict[Purpose, bool] = Field(min_length=1, max_length=3)


def set_preferences(body: dict[str, Any], source_ip: str | None) -> dict[str, Any]:
    """Record the person's marketing choices as new ledger entries."""
    from chalicelib.errors import ValidationFailed
    from chalicelib.services.leads.timeline import new_event
    from chalicelib.services.tenants.tenancy import retention_days
    from chalicelib.store.batch import write_all
    from chalicelib.vault.minimise import truncate_ip

    tenant_id, owner = read_token(body.get("token") if isinstance(body, dict) else None)
    data = parse_input(PreferencesInput, body)
    grants = {str(purpose): value for purpose, value in data.grants.items()}
    if set(grants) - MARKETING:
        raise ValidationFailed(details=[{"field": "grants", "problem": "only marketing choices change here"}])
    now = clock.now()
    info = {"grants": grants, "source": "preferences_link", "ip_prefix": truncate_ip(source_ip)}
    write_all([new_event(tenant_id, owner, "consent", now,
                         now + timedelta(days=retention_days(tenant_id, "consents")),
                         info={k: v for k, v in info.items() if v})])
    if owner.startswith("led_"):
        _refresh_lead(owner, grants)
    return {"grants": _marketing_state(tenant_id, owner)}


def _refresh_lead(lead_id: str, grants: dict[str, bool]) -> None:
    from chalicelib.store.models.leads import LeadRecord

    try:
        lead = LeadRecord.get(lead_id, consistent_read=True)
    except LeadRecord.DoesNotExist:
        return
    from chalicelib.services.rights.purposes import consent_summary

    summary = consent_summary(plain(lead.consents), grants, bool(lead.marketing_suppressed))
    lead.update(actions=[LeadRecord.consents.set(summary)])
