"""The one-time tokens repository: single-use links sent to a person (confirmations, downloads).

Only a token's hash is stored, under ``otk#<hash>`` in ``unique_keys``. Spending it is one
conditional update recording a nonce, so a spend whose answer was lost and retried by the SDK is
told apart from a second spend; a refusal comes back as None, never as an SDK exception.
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.store.batch import write_all
from chalicelib.store.conditional import applied
from chalicelib.store.models.claims import OneTimeTokenRecord

# What services hold: a token's record as read (attributes to read, never to set).
Token = OneTimeTokenRecord

__all__ = ["Token"]


def one_time_key(token_hash: str) -> str:
    return f"otk#{token_hash}"


def issue(token_hash: str, tenant_id: str, purpose: str, target: str, expires_at: datetime) -> Token:
    """An unsaved token record (``target`` is JSON of ids we minted), for the caller's batch."""
    return OneTimeTokenRecord(one_time_key(token_hash), tenant_id=tenant_id, purpose=purpose, target=target,
                              expires_at=expires_at)


def save(token: Token) -> None:
    """Store one token on its own (a single put)."""
    token.save()


def spend(token_hash: str, nonce: str, purpose: str, now: datetime, target: str | None = None) -> Token | None:
    """Mark a live, unspent token of ``purpose`` (and ``target``, when given) spent by ``nonce``.

    Returns the record, or None when refused. A refusal caused by the SDK retrying our own applied
    update (the stored nonce is ours) counts as spent by us.
    """
    pk = one_time_key(token_hash)
    record = OneTimeTokenRecord(pk)
    condition = (OneTimeTokenRecord.pk.exists() & OneTimeTokenRecord.spent_by.does_not_exist()
                 & (OneTimeTokenRecord.purpose == purpose) & (OneTimeTokenRecord.expires_at > now))
    if target is not None:
        condition &= OneTimeTokenRecord.target == target
    if applied(record.update, actions=[OneTimeTokenRecord.spent_by.set(nonce)], condition=condition):
        return record
    try:
        record = OneTimeTokenRecord.get(pk, consistent_read=True)
    except OneTimeTokenRecord.DoesNotExist:
        return None
    return record if record.spent_by == nonce else None


def ref_of(token: Token) -> str:
    """The reference a lead keeps of a link issued for it (so erasure and newer links can remove it)."""
    return str(token.pk)


def removal(ref: str) -> Token:
    """The key of a link to delete in a batch (a lead's older confirmation link, or one going with its lead)."""
    return OneTimeTokenRecord(ref)


def revoke(refs: set[str] | list[str]) -> None:
    """Delete these links (older confirmation links stop working)."""
    if refs:
        write_all(deletes=[removal(ref) for ref in refs])
