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
from chalicelib.errors import NotFound
from chalicelib.services import audit
from chalicelib.services.access import cors
from chalicelib.services.access.auth import KEY_ID, format_key, hash_secret
from chalicelib.services.leads.identifiers import normalise_email
from chalicelib.services.tenants.tenancy import require_tenant
from chalicelib.services.validation import StrictInput, parse_input
from chalicelib.store.models.api_keys import ApiKeyRecord, get_key

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
    from chalicelib.vault import envelope

    data = parse_input(IssueKeyInput, payload)
    require_tenant(data.tenant_id)
    key_id = "key_" + secrets.token_hex(10)
    secret = secrets.token_urlsafe(32)
    record = ApiKeyRecord(
        key_id,
        tenant_id=data.tenant_id,
        role=data.role,
        secret_hash=hash_secret(secret),
        agent_id=(data.agent_id or key_id) if data.role == "agent" else None,
        allowed_origins=data.allowed_origins,
        created_at=clock.now(),
    )
    if data.email:
        subject = envelope.new_subject(data.tenant_id)
        record.subject_id = subject.subject_id
        record.email_sealed = envelope.seal(data.tenant_id, subject.subject_id, "email", data.email)
    if data.allowed_origins:
        cors.register_key(key_id, data.allowed_origins)
    record.save(condition=ApiKeyRecord.key_id.does_not_exist())
    audit.record(data.tenant_id, actor_key_id, "api_key.issue", key_id)
    return {"key_id": key_id, "api_key": format_key(data.tenant_id, key_id, secret)}


def revoke_key(payload: object, actor_key_id: str = audit.OPERATOR) -> dict[str, bool]:
    """Revoke at once (reads are strongly consistent) and shred the holder's sealed e-mail."""
    from chalicelib.vault import envelope

    data = parse_input(RevokeKeyInput, payload)
    require_tenant(data.tenant_id)
    record = get_key(data.key_id) if KEY_ID.match(data.key_id) else None
    if record is None or record.tenant_id != data.tenant_id:
        raise NotFound("No such key.")
    now = clock.now()
    if record.revoked_at is None:
        record.update(
            actions=[
                ApiKeyRecord.revoked_at.set(now),
                ApiKeyRecord.expires_at.set(now + timedelta(days=REVOKED_KEY_KEEP_DAYS)),
                ApiKeyRecord.email_sealed.remove(),
            ],
            condition=ApiKeyRecord.tenant_id == data.tenant_id,
        )
        if record.subject_id:
            envelope.destroy_subject(data.tenant_id, record.subject_id)
        audit.record(data.tenant_id, actor_key_id, "api_key.revoke", data.key_id)
    if record.allowed_origins:
        cors.unregister_key(record.key_id, list(record.allowed_origins))
    return {"revoked": True}


def reindex_origins() -> int:
    """Put every live widget key's origins in the CORS index (keys issued before the index existed)."""
    indexed = 0
    for record in ApiKeyRecord.scan(ApiKeyRecord.role == "widget"):
        if record.revoked_at is None and record.allowed_origins:
            cors.register_key(record.key_id, list(record.allowed_origins))
            indexed += 1
    return indexed
