"""Per-person envelope encryption (AES-256-GCM) and crypto-shredding.

Each person (a *subject*) gets a random data key, stored only wrapped by the master key. Fields
are sealed with AAD binding tenant, subject and field name, so a ciphertext moved to another
row or field fails to open. Destroying the wrapped key makes every copy unreadable, backups too.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

from chalicelib import clock, invocation
from chalicelib.config import get_settings
from chalicelib.store.models.person_keys import PersonKeyRecord, key_ref
from chalicelib.vault.master import MasterKey, master_key_for

_VERSION = b"\x01"
_NONCE_BYTES = 12


class SubjectKeyMissing(LookupError):
    """The subject's key is gone (erased) or never existed: its data cannot be read."""


@dataclass(frozen=True)
class NewSubject:
    subject_id: str
    record: PersonKeyRecord
    key: SubjectKey


def current_master_key() -> MasterKey:
    return invocation.cached("master_key", lambda: master_key_for(get_settings()))


def _context(tenant_id: str, subject_id: str) -> dict[str, str]:
    return {"tenant_id": tenant_id, "subject_id": subject_id, "purpose": "person-data-key"}


def new_subject(tenant_id: str, *, save: bool = True, subject_id: str | None = None) -> NewSubject:
    """Mint a subject with a fresh data key. ``save=False`` lets a caller batch the key's write."""
    subject_id = subject_id or "sub_" + secrets.token_hex(12)
    master = current_master_key()
    plaintext, wrapped = master.generate(_context(tenant_id, subject_id))
    record = PersonKeyRecord(
        key_ref(tenant_id, subject_id), wrapped_key=wrapped, master_key=master.name, created_at=clock.now()
    )
    if save:
        record.save()
    invocation.cached(_cache_name(tenant_id, subject_id), lambda: plaintext)
    return NewSubject(subject_id, record, SubjectKey(tenant_id, subject_id))


@dataclass(frozen=True)
class SubjectKey:
    """One subject's data key: the only way to seal or open that subject's fields.

    It carries the wrapped key when the subject's item holds it inline (a lead), so opening a
    field never depends on something having been loaded before; without it, the key is read
    from the subject's key record. The key is unwrapped only when a field is actually opened.
    """

    tenant_id: str
    subject_id: str
    wrapped: bytes | None = None

    def seal(self, field: str, plaintext: str) -> bytes:
        """Encrypt one field's value under the subject's key."""
        return self.seal_bytes(field, plaintext.encode("utf-8"))

    def unseal(self, field: str, blob: bytes) -> str:
        """Decrypt one field's value; raises :class:`SubjectKeyMissing` once the person is erased."""
        return self.unseal_bytes(field, blob).decode("utf-8")

    def seal_bytes(self, field: str, plaintext: bytes) -> bytes:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(self._plain()).encrypt(nonce, plaintext, self._aad(field))
        return _VERSION + nonce + sealed

    def unseal_bytes(self, field: str, blob: bytes) -> bytes:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if blob[:1] != _VERSION:
            raise ValueError("unknown sealed-value version")
        nonce, sealed = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        return AESGCM(self._plain()).decrypt(nonce, sealed, self._aad(field))

    def _aad(self, field: str) -> bytes:
        return f"{self.tenant_id}|{self.subject_id}|{field}".encode()

    def _plain(self) -> bytes:
        tenant_id, subject_id = self.tenant_id, self.subject_id

        def load() -> bytes:
            if self.wrapped:
                return current_master_key().unwrap(self.wrapped, _context(tenant_id, subject_id))
            try:
                record = PersonKeyRecord.get(key_ref(tenant_id, subject_id))
            except PersonKeyRecord.DoesNotExist:
                raise SubjectKeyMissing(subject_id) from None
            return current_master_key().unwrap(record.wrapped_key, _context(tenant_id, subject_id))

        return invocation.cached(_cache_name(tenant_id, subject_id), load)


@dataclass(frozen=True)
class InlineKey:
    """A fresh data key for a subject whose item stores it (a lead): what to store, and the key."""

    key: SubjectKey
    wrapped: bytes
    master_key: str


def new_inline_key(tenant_id: str, subject_id: str) -> InlineKey:
    """A data key for a subject whose wrapped key is stored on its own item (a lead).

    Removing the wrapped key from that item crypto-shreds the subject exactly as
    :func:`destroy_subject` does for a key record.
    """
    master = current_master_key()
    plaintext, wrapped = master.generate(_context(tenant_id, subject_id))
    invocation.put(_cache_name(tenant_id, subject_id), plaintext)
    return InlineKey(SubjectKey(tenant_id, subject_id, wrapped), wrapped, master.name)


def stored_key(tenant_id: str, subject_id: str) -> SubjectKey:
    """The key of a subject whose wrapped key is in the person-keys table (requesters, users)."""
    return SubjectKey(tenant_id, subject_id)


def _cache_name(tenant_id: str, subject_id: str) -> str:
    return f"data_key:{tenant_id}#{subject_id}"


def destroy_subject(tenant_id: str, subject_id: str) -> None:
    """Crypto-shred: delete the wrapped data key and forget any unwrapped copy."""
    PersonKeyRecord(key_ref(tenant_id, subject_id)).delete()
    forget_key(tenant_id, subject_id)


def forget_key(tenant_id: str, subject_id: str) -> None:
    """Drop every cached copy of a subject's key (after it was shredded)."""
    invocation.forget(_cache_name(tenant_id, subject_id))
