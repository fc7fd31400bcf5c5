"""Authenticating API keys and authorising roles: the path every request takes, kept light.

A key reads ``lv.<tenant_id>.<key_id>.<secret>``; only SHA-256 of the secret is stored (see
:mod:`chalicelib.services.access.api_keys`). Both ids are public handles, and carrying the tenant id
lets one strongly consistent batch read fetch the key and its tenant together, so a revoked
key is refused by the very next request at the cost of a single round trip.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from chalicelib.errors import Forbidden, Unauthorized
from chalicelib.services.access.cors import key_allows
from chalicelib.services.tenants.tenancy import TENANT_ID
from chalicelib.store import tenants

KEY_PREFIX = "lv"
KEY_ID = re.compile(r"^key_[0-9a-f]{20}$")


@dataclass(frozen=True)
class Caller:
    """Who is calling: everything a handler may know about the key, nothing more."""

    tenant_id: str
    key_id: str
    role: str
    agent_id: str | None = None
    allowed_origins: tuple[str, ...] = ()


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def format_key(tenant_id: str, key_id: str, secret: str) -> str:
    return f"{KEY_PREFIX}.{tenant_id}.{key_id}.{secret}"


def authenticate(authorization: str | None) -> Caller:
    """The caller behind an ``Authorization: Bearer`` header, or :class:`Unauthorized`."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    parts = token.strip().split(".")
    if scheme.lower() != "bearer" or len(parts) != 4 or parts[0] != KEY_PREFIX:
        raise Unauthorized()
    _, tenant_id, key_id, secret = parts
    if not TENANT_ID.match(tenant_id) or not KEY_ID.match(key_id):
        raise Unauthorized()
    record, tenant = tenants.key_and_tenant(key_id, tenant_id)
    if record is None or tenant is None or record.tenant_id != tenant_id:
        raise Unauthorized()
    if not hmac.compare_digest(record.secret_hash, hash_secret(secret)) or record.revoked_at is not None:
        raise Unauthorized()
    tenants.remember(tenant)  # every later require_tenant of this invocation is free
    return Caller(
        tenant_id=record.tenant_id,
        key_id=record.key_id,
        role=record.role,
        agent_id=record.agent_id,
        allowed_origins=tuple(record.allowed_origins or ()),
    )


def authorise(caller: Caller, roles: tuple[str, ...], origin: str | None) -> None:
    """Refuse a role the route does not take, and a widget key used from a foreign origin."""
    if caller.role not in roles:
        raise Forbidden()
    if caller.role == "widget" and caller.allowed_origins and not key_allows(caller.allowed_origins, origin):
        raise Forbidden("This key may not be used from this origin.")
