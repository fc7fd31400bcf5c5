"""The consent ledger repository: append-only ``consent`` events of a person's ledger owner.

An owner is the person's lead (its id), or, for someone without a lead, a *subject ledger*
derived from one identifier's blind index: ``subject#<tenant_id>#<email|phone|visitor>#<index>``.
Consent entries hold facts only (purposes, policy version, source, IP prefix), never personal
values, so they are readable without the owner's key. Suppression (an erased person's
identifiers) is keyed like identity claims and lives with them in :mod:`chalicelib.store.leads`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from chalicelib import clock
from chalicelib.store import timeline
from chalicelib.store.timeline import Event
from chalicelib.vault.envelope import SubjectKey, stored_key

CONSENT = "consent"
_SUBJECT = "subject"


def subject_owner(tenant_id: str, kind: str, ref: str) -> str:
    """The ledger of a person known only by one identifier (no lead holds it)."""
    return f"{_SUBJECT}#{tenant_id}#{kind}#{ref}"


def subject_of(owner: str) -> tuple[str, str] | None:
    """``(kind, blind index)`` of a subject ledger; None when the owner is a lead."""
    parts = owner.split("#", 3)
    if len(parts) != 4 or parts[0] != _SUBJECT:
        return None
    return parts[2], parts[3]


def ledger_key(tenant_id: str, owner: str) -> SubjectKey:
    """The key an owner's ledger entries are named under. Entries seal nothing, so it never has to open."""
    return stored_key(tenant_id, owner)


def new_entry(
    tenant_id: str, owner: str, at: datetime, expires_at: datetime | None, info: dict[str, Any],
    actor_key_id: str | None = None,
) -> Event:
    """An unsaved ledger entry holding the facts it has (no empty policy version, source or IP prefix).

    It seals nothing, so the owner's key is only named, never opened.
    """
    facts = {name: value for name, value in info.items() if value}
    return timeline.new_event(ledger_key(tenant_id, owner), CONSENT, at, expires_at, info=facts,
                              actor_key_id=actor_key_id)


def entries(tenant_id: str, owners: Iterable[str]) -> list[Event]:
    """The tenant's unexpired consent entries of these owners, oldest first."""
    now = clock.now()
    found = [entry for owner in owners for entry in timeline.consents_of(owner)
             if entry.tenant_id == tenant_id and (entry.expires_at is None or entry.expires_at > now)]
    return sorted(found, key=lambda entry: entry.sort_key)
