"""Authenticating API keys and authorising roles: the path every request takes, kept light.

A key reads ``lv.<key_id>.<secret>``; only SHA-256 of the secret is stored (see
:mod:`chalicelib.services.api_keys`). Lookups read strongly consistent, so a revoked key is
refused by the very next request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from chalicelib.errors import Forbidden, Unauthorized
from chalicelib.store.api_keys import get_key

ROLES = ("widget", "agent", "admin")
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


def authenticate(authorization: str | None) -> Caller:
    """The caller behind an ``Authorization: Bearer`` header, or :class:`Unauthorized`."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    parts = token.strip().split(".")
    if scheme.lower() != "bearer" or len(parts) != 3 or parts[0] != KEY_PREFIX or not KEY_ID.match(parts[1]):
        raise Unauthorized()
    record = get_key(parts[1])
    if record is None or not hmac.compare_digest(record.secret_hash, hash_secret(parts[2])):
        raise Unauthorized()
    if record.revoked_at is not None:
        raise Unauthorized()
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
    foreign = not origin or origin.rstrip("/").lower() not in caller.allowed_origins
    if caller.role == "widget" and caller.allowed_origins and foreign:
        raise Forbidden("This key may not be used from this origin.")
