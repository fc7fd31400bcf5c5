"""Issuing and revoking API keys (operator functions).

A key reads ``lv.<tenant_id>.<key_id>.<secret>``. The ids are public handles (the key id
appears in audit records); the 256-bit secret is stored only as its SHA-256, which is enough
for a random secret of that size. A key is shown once, when issued.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, StringConstraints, field_validator, model_validator

from chalicelib import clock
from chalicelib.errors import InternalError, NotFound
from chalicelib.services import audit
from chalicelib.services.access import cors
from chalicelib.services.access.auth import KEY_ID, format_key, hash_secret
from chalicelib.services.leads.identifiers import normalise_email
from chalicelib.services.tenants.tenancy import require_tenant
from chalicelib.services.validation import StrictInput, field_error, parse_input
from chalicelib.store import tenants
from chalicelib.vault import envelope

# Revoked keys stay for the audit trail's sake, long enough to explain old audit records.
REVOKED_KEY_KEEP_DAYS = 400

Role = Literal["widget", "agent", "admin"]


class IssueKeyInput(StrictInput):
    tenant_id: str
    role: Role
    agent_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = None
    email: Annotated[str, StringConstraints(max_length=254)] | None = None
    allowed_origins: list[Annotated[str, StringConstraints(max_length=255)]] = Field(
        default_factory=list, max_length=20
    )

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value is None else normalise_email(value)

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, values: list[str]) -> list[str]:
        return sorted({_normalise_origin(value) for value in values})

    @model_validator(mode="after")
    def _role_rules(self) -> IssueKeyInput:
        if self.allowed_origins and self.role != "widget":
            raise ValueError("allowed_origins applies to widget keys only")
        if self.agent_id and self.role != "agent":
            raise ValueError("agent_id applies to agent keys only")
        if self.role == "agent" and not self.agent_id:
            # The agent id names whose leads, shifts and calls the key works; a made-up one would hide them.
            raise field_error("agent_id", "an agent key needs the agent_id of the agent who holds it")
        return self


def _normalise_origin(value: str) -> str:
    parts = urlsplit(value)
    local = parts.hostname in ("localhost", "127.0.0.1")
    if parts.scheme not in ("https", "http") or (parts.scheme == "http" and not local) or not parts.hostname:
        raise ValueError("origins look like https://example.com (http only for localhost)")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError("an origin has no path, query or credentials")
    return f"{parts.scheme}://{parts.netloc.lower()}"


class RevokeKeyInput(StrictInput):
    tenant_id: str
    key_id: str


def issue_key(payload: object, actor_key_id: str = audit.OPERATOR) -> dict[str, str]:
    """Mint a key for a tenant; the plaintext key is in the answer and nowhere else."""
    data = parse_input(IssueKeyInput, payload)
    tenant = require_tenant(data.tenant_id)
    key_id = "key_" + secrets.token_hex(10)
    secret = secrets.token_urlsafe(32)
    subject_id, email_sealed = None, None
    if data.email:  # sealed under the holder's own key, so revoking the key shreds the address
        subject = envelope.new_subject(data.tenant_id)
        subject_id, email_sealed = subject.subject_id, subject.key.seal("email", data.email)
    # the key and its origins' CORS index entries are written together (one transaction): neither without the other
    created = tenants.create_key(
        key_id,
        tenant_id=data.tenant_id,
        role=data.role,
        secret_hash=hash_secret(secret),
        agent_id=data.agent_id if data.role == "agent" else None,
        allowed_origins=data.allowed_origins,
        created_at=clock.now(),
        subject_id=subject_id,
        email_sealed=email_sealed,
    )
    if not created:  # 80 random bits taken already: never expected, never overwritten
        raise InternalError()
    audit.record(tenant, actor_key_id, "api_key.issue", key_id)
    return {"key_id": key_id, "api_key": format_key(data.tenant_id, key_id, secret)}


def revoke_key(payload: object, actor_key_id: str = audit.OPERATOR) -> dict[str, bool]:
    """Revoke at once (reads are strongly consistent) and shred the holder's sealed e-mail."""
    data = parse_input(RevokeKeyInput, payload)
    tenant = require_tenant(data.tenant_id)
    key = tenants.get_key(data.key_id) if KEY_ID.match(data.key_id) else None
    if key is None or key.tenant_id != data.tenant_id:
        raise NotFound("No such key.")
    if key.revoked_at is None:
        now = clock.now()
        # revoked and out of the CORS index together (one transaction)
        if not tenants.revoke_key(key, now, keep_until=now + timedelta(days=REVOKED_KEY_KEEP_DAYS)):
            raise NotFound("No such key.")
        if key.subject_id:
            envelope.destroy_subject(data.tenant_id, key.subject_id)
        audit.record(tenant, actor_key_id, "api_key.revoke", data.key_id)
    elif key.allowed_origins:  # revoked before revocation left the index in the same write: make sure it did
        cors.unregister_key(key.key_id, list(key.allowed_origins))
    return {"revoked": True}


def reindex_origins() -> int:
    """Put every live widget key's origins in the CORS index (keys issued before the index existed)."""
    indexed = 0
    for key in tenants.live_keys("widget"):
        if key.allowed_origins:
            cors.register_key(key.key_id, list(key.allowed_origins))
            indexed += 1
    return indexed
