"""Master keys that wrap data keys: AWS KMS in the cloud, a 0600 key file locally."""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from chalicelib.config import ConfigError, Settings

DATA_KEY_BYTES = 32
_NONCE_BYTES = 12


class MasterKey(Protocol):
    """Wraps and unwraps data keys bound to a context (tenant, subject), so blobs cannot be swapped."""

    name: str

    def generate(self, context: dict[str, str]) -> tuple[bytes, bytes]:
        """Return ``(plaintext_key, wrapped_key)`` for a new data key."""

    def unwrap(self, wrapped: bytes, context: dict[str, str]) -> bytes:
        """Return the plaintext data key of ``wrapped``."""


def _aad(context: dict[str, str]) -> bytes:
    return "|".join(f"{k}={v}" for k, v in sorted(context.items())).encode()


@dataclass
class FileMasterKey:
    """AES-256-GCM with a key kept in a file of mode 0600, created on first use."""

    path: Path
    name: str = ""

    def __post_init__(self) -> None:
        self._key = _load_or_create_key_file(self.path)
        self.name = "file:" + hashlib.sha256(self._key).hexdigest()[:16]

    def generate(self, context: dict[str, str]) -> tuple[bytes, bytes]:
        plaintext = os.urandom(DATA_KEY_BYTES)
        return plaintext, self._wrap(plaintext, context)

    def _wrap(self, plaintext: bytes, context: dict[str, str]) -> bytes:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = os.urandom(_NONCE_BYTES)
        return nonce + AESGCM(self._key).encrypt(nonce, plaintext, _aad(context))

    def unwrap(self, wrapped: bytes, context: dict[str, str]) -> bytes:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        return AESGCM(self._key).decrypt(wrapped[:_NONCE_BYTES], wrapped[_NONCE_BYTES:], _aad(context))


def _load_or_create_key_file(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise ConfigError(f"master key file must be readable by its owner only (mode is {mode:o})") from None
        key = path.read_bytes()
        if len(key) != DATA_KEY_BYTES:
            raise ConfigError("master key file is damaged: expected 32 bytes") from None
        return key
    key = os.urandom(DATA_KEY_BYTES)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


@dataclass
class KmsMasterKey:
    """AWS KMS: data keys come from GenerateDataKey, bound by the encryption context."""

    key_id: str
    client: Any
    name: str = ""

    def __post_init__(self) -> None:
        self.name = "kms:" + self.key_id

    def generate(self, context: dict[str, str]) -> tuple[bytes, bytes]:
        answer = self.client.generate_data_key(KeyId=self.key_id, KeySpec="AES_256", EncryptionContext=context)
        return answer["Plaintext"], answer["CiphertextBlob"]

    def unwrap(self, wrapped: bytes, context: dict[str, str]) -> bytes:
        answer = self.client.decrypt(CiphertextBlob=wrapped, KeyId=self.key_id, EncryptionContext=context)
        return answer["Plaintext"]


_FILE_KEYS: dict[Path, FileMasterKey] = {}


def master_key_for(settings: Settings) -> MasterKey:
    """The master key the settings name. A file key is read once per process (it is not a data key)."""
    if settings.uses_kms:
        import boto3

        client = boto3.client("kms", region_name=settings.region)
        return KmsMasterKey(key_id=str(settings.kms_key_id), client=client)
    path = settings.master_key_file.resolve()
    if path not in _FILE_KEYS:
        _FILE_KEYS[path] = FileMasterKey(path)
    return _FILE_KEYS[path]
