"""Blind indexes: HMAC-SHA256 under a per-tenant secret over a normalised identifier.

They let us find "the lead with this phone" without storing the phone, and they differ per
tenant, so the same person cannot be linked across tenants through the index.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Protocol

from chalicelib import invocation
from chalicelib.vault.envelope import current_master_key


class IndexedTenant(Protocol):
    """What an index needs of a tenant: its id and its wrapped secret (the caller already holds both)."""

    tenant_id: str
    wrapped_index_secret: bytes


def _context(tenant_id: str) -> dict[str, str]:
    return {"tenant_id": tenant_id, "purpose": "blind-index-secret"}


def new_index_secret(tenant_id: str) -> bytes:
    """A fresh tenant secret, returned wrapped by the master key for storage."""
    _plaintext, wrapped = current_master_key().generate(_context(tenant_id))
    return wrapped


def _index_secret(tenant: IndexedTenant) -> bytes:
    def load() -> bytes:
        return current_master_key().unwrap(tenant.wrapped_index_secret, _context(tenant.tenant_id))

    return invocation.cached(f"index_secret:{tenant.tenant_id}", load)


def blind_index(tenant: IndexedTenant, kind: str, normalised: str) -> str:
    """The tenant-keyed digest of ``kind:normalised`` (kind is ``phone`` or ``email``)."""
    digest = hmac.new(_index_secret(tenant), f"{kind}:{normalised}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


__all__ = ["blind_index", "new_index_secret"]
