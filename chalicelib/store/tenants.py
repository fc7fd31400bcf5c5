"""The tenants repository: tenants, their API keys, the CORS origin index and the budget counters.

A tenant is read once per invocation (every authenticated request needs it, and a call event
needs it many times over), so this module keeps the loaded tenant in the invocation scope. An
API key and its tenant come back from one strongly consistent batch read, which is how a revoked
key is refused by the very next request at the cost of a single round trip. Key formats, scans,
conditional writes and their refusals stay here; services get items to read and plain outcomes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any

from chalicelib import invocation
from chalicelib.store import atomic
from chalicelib.store.atomic import Contended, Refused, commit
from chalicelib.store.base import plain
from chalicelib.store.batch import get_all
from chalicelib.store.conditional import applied
from chalicelib.store.counters import Counter
from chalicelib.store.models.api_keys import ApiKeyRecord
from chalicelib.store.models.claims import CorsOriginRecord
from chalicelib.store.models.tenants import TenantRecord

# What services hold: a tenant and an API key as read (attributes to read, never to set).
Tenant = TenantRecord
ApiKey = ApiKeyRecord

# Budget counters and their transaction's outcomes other than success, re-exported for services.
__all__ = ["ApiKey", "Contended", "Counter", "Refused", "Tenant"]

# What the housekeeping jobs read of every tenant (not the fields, budgets or secrets).
_HOUSEKEEPING_ATTRIBUTES = ["tenant_id", "retention_days", "created_at", "audit_purged_through", "redate_pending",
                            "redate_positions"]


# --- tenants ------------------------------------------------------------------------------

def _cache_name(tenant_id: str) -> str:
    return f"tenant:{tenant_id}"


def get(tenant_id: str) -> Tenant | None:
    """The tenant, read once per invocation (later calls in the same invocation are free); None if unknown."""
    known = invocation.peek(_cache_name(tenant_id))
    if known is not None:
        return known  # type: ignore[no-any-return]
    try:
        tenant = TenantRecord.get(tenant_id)
    except TenantRecord.DoesNotExist:
        return None
    return invocation.cached(_cache_name(tenant_id), lambda: tenant)


def remember(tenant: Tenant) -> None:
    """Keep a tenant read elsewhere (with its key, by :func:`key_and_tenant`) for the rest of the invocation."""
    invocation.put(_cache_name(tenant.tenant_id), tenant)


def create(tenant_id: str, *, name: str, default_region: str, own_numbers: list[str],
           unknown_calls_become_leads: bool, lawful_basis: str, max_shift_hours: int, privacy_due_days: int,
           wrapped_index_secret: bytes, retention_days: dict[str, int], created_at: datetime) -> Tenant | None:
    """Store a new tenant and return it; None if the id is taken already."""
    tenant = TenantRecord(
        tenant_id,
        name=name,
        default_region=default_region,
        own_numbers=own_numbers,
        unknown_calls_become_leads=unknown_calls_become_leads,
        lawful_basis=lawful_basis,
        max_shift_hours=max_shift_hours,
        privacy_due_days=privacy_due_days,
        wrapped_index_secret=wrapped_index_secret,
        retention_days=retention_days,
        created_at=created_at,
    )
    if not applied(tenant.save, condition=TenantRecord.tenant_id.does_not_exist()):
        return None
    return tenant


def every_tenant() -> Iterator[Tenant]:
    """Every tenant, with only what housekeeping needs: retention, audit progress, re-dating (no name,
    fields or secret; :func:`get` reads a whole tenant). The table grows with customers, not their data."""
    return TenantRecord.scan(attributes_to_get=_HOUSEKEEPING_ATTRIBUTES)


def retention_of(tenant: Tenant) -> dict[str, int]:
    """The tenant's retention overrides (days by kind), as a plain dict."""
    return {kind: int(days) for kind, days in plain(tenant.retention_days).items()}


def budget_overrides_of(tenant: Any) -> dict[str, int]:
    """The tenant's overrides of the public budgets, by name (none for a tenant read without them)."""
    return {name: int(limit) for name, limit in plain(getattr(tenant, "budgets", None)).items()}


def fields_of(tenant: Tenant) -> list[dict[str, Any]]:
    """The tenant's declared custom lead fields, as plain dicts."""
    return [plain(declared) for declared in (tenant.fields or [])]


def set_retention(tenant: Tenant, days: dict[str, int], *, redate: bool) -> None:
    """Store new retention days; ``redate`` asks the next purge to re-date every lead from the start."""
    actions: list[Any] = [TenantRecord.retention_days.set(days)]
    if redate:
        actions += [TenantRecord.redate_pending.set(True), TenantRecord.redate_positions.remove()]
    tenant.update(actions=actions)


def set_budgets(tenant: Tenant, overrides: dict[str, int]) -> None:
    tenant.update(actions=[TenantRecord.budgets.set(overrides)])


def set_fields(tenant: Tenant, declared: list[dict[str, Any]]) -> None:
    tenant.update(actions=[TenantRecord.fields.set(declared)])


# How the tenant appears to people, attribute by attribute (see the model).
IDENTITY_SETTINGS = ("display_name", "sender_name", "sender_address", "reply_to", "accent_colour", "logo_url")


def identity_of(tenant: Any) -> dict[str, str | None]:
    """The tenant's identity settings as stored (None where unset; a tenant read without them has none)."""
    return {name: getattr(tenant, name, None) or None for name in IDENTITY_SETTINGS}


def set_identity(tenant: Tenant, changes: dict[str, str | None]) -> None:
    """Set (a value) or clear (None) each setting named; the others stay. One update, each a SET or REMOVE of its
    own attribute, so a retried write lands the same and two operators changing different settings both hold."""
    actions: list[Any] = []
    for name, value in changes.items():
        if name not in IDENTITY_SETTINGS:
            raise ValueError(f"not an identity setting: {name}")
        attribute = getattr(TenantRecord, name)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    if actions:
        tenant.update(actions=actions)


def redate_positions_of(tenant: Tenant) -> dict[str, str]:
    """Where an interrupted re-dating got to in each list shard (shard -> position or ``done``)."""
    return {str(shard): str(position) for shard, position in plain(tenant.redate_positions).items()}


def save_redate_positions(tenant: Tenant, positions: dict[str, str]) -> None:
    tenant.update(actions=[TenantRecord.redate_positions.set(positions)])


def finish_redate(tenant: Tenant) -> None:
    tenant.update(actions=[TenantRecord.redate_pending.remove(), TenantRecord.redate_positions.remove()])


def audit_purged_through(tenant: Tenant) -> date | None:
    """The last day whose audit records the purge has deleted, if any."""
    return date.fromisoformat(tenant.audit_purged_through) if tenant.audit_purged_through else None


def mark_audit_purged(tenant: Tenant, day: date) -> None:
    tenant.update(actions=[TenantRecord.audit_purged_through.set(day.isoformat())])


# --- API keys -----------------------------------------------------------------------------

def key_and_tenant(key_id: str, tenant_id: str) -> tuple[ApiKey | None, Tenant | None]:
    """An API key and its tenant in one strongly consistent batch read (None for either not found)."""
    found = get_all([(ApiKeyRecord, key_id), (TenantRecord, tenant_id)])
    key, tenant = found.get(key_id), found.get(tenant_id)
    return (key if isinstance(key, ApiKeyRecord) else None, tenant if isinstance(tenant, TenantRecord) else None)


def get_key(key_id: str) -> ApiKey | None:
    """Read strongly consistent, so a revocation is seen by the very next request."""
    try:
        return ApiKeyRecord.get(key_id, consistent_read=True)
    except ApiKeyRecord.DoesNotExist:
        return None


def create_key(key_id: str, *, tenant_id: str, role: str, secret_hash: bytes, agent_id: str | None,
               allowed_origins: list[str], created_at: datetime, subject_id: str | None = None,
               email_sealed: bytes | None = None) -> bool:
    """Store a new key, and index the origins it allows, in one transaction; False if the id is taken already.

    Both or neither: never an index entry for a key that does not exist (a preflight answered for a site
    no key allows), nor a key its own site's preflights refuse. A transaction replayed by the SDK after a
    lost answer carries the same token and is applied once, so the replay never reads as "id taken".
    """
    key = ApiKeyRecord(key_id, tenant_id=tenant_id, role=role, secret_hash=secret_hash, agent_id=agent_id,
                       allowed_origins=allowed_origins, created_at=created_at, subject_id=subject_id,
                       email_sealed=email_sealed)
    try:
        commit([atomic.put(key, ApiKeyRecord.key_id.does_not_exist(), label="key"),
                *_origin_writes(key_id, allowed_origins, add=True)])
    except Refused:
        return False
    return True


def revoke_key(key: ApiKey, at: datetime, keep_until: datetime) -> bool:
    """Revoke the key and drop its holder's sealed e-mail; kept until ``keep_until`` for the audit trail.
    Its origins leave the CORS index in the same transaction (replayed once only, as :func:`create_key`).

    False if the key no longer belongs to the tenant it was read with.
    """
    actions = [ApiKeyRecord.revoked_at.set(at), ApiKeyRecord.expires_at.set(keep_until),
               ApiKeyRecord.email_sealed.remove()]
    try:
        commit([atomic.update(key, actions, ApiKeyRecord.tenant_id == key.tenant_id, label="key"),
                *_origin_writes(key.key_id, list(key.allowed_origins or []), add=False)])
    except Refused:
        return False
    return True


def live_keys(*roles: str) -> Iterator[ApiKey]:
    """Every unrevoked key of these roles, of every tenant (a scan: for rare jobs only)."""
    return ApiKeyRecord.scan(ApiKeyRecord.role.is_in(*roles) & ApiKeyRecord.revoked_at.does_not_exist())


# --- the CORS origin index ----------------------------------------------------------------

def _origin_key(origin: str) -> str:
    return f"cors#{origin}"


def _origin_writes(key_id: str, origins: Sequence[str], *, add: bool) -> list[atomic.Guarded]:
    """A key joining (or leaving) the index of each origin, as writes of a transaction."""
    change = CorsOriginRecord.key_ids.add if add else CorsOriginRecord.key_ids.delete
    return [atomic.update(CorsOriginRecord(_origin_key(origin)), [change({key_id})]) for origin in origins]


def index_origins(key_id: str, origins: Sequence[str]) -> None:
    """Add a widget key to the index of each origin it allows (an atomic ADD per origin)."""
    for origin in origins:
        CorsOriginRecord(_origin_key(origin)).update(actions=[CorsOriginRecord.key_ids.add({key_id})])


def unindex_origins(key_id: str, origins: Sequence[str]) -> None:
    """Take a key out of the index of each origin (an atomic DELETE per origin)."""
    for origin in origins:
        CorsOriginRecord(_origin_key(origin)).update(actions=[CorsOriginRecord.key_ids.delete({key_id})])


def origin_has_live_key(origin: str) -> bool:
    """Whether some live widget key allows this origin (one read)."""
    try:
        entry = CorsOriginRecord.get(_origin_key(origin))
    except CorsOriginRecord.DoesNotExist:
        return False
    return bool(entry.key_ids)


# --- budget counters ----------------------------------------------------------------------

def budget_counter(tenant_id: str, name: str, scope: str, window: str, limit: int, window_ends: datetime,
                   shard: int | None = None) -> Counter:
    """The counter of one budget, for one scope (key, tenant, client, address) and one time window."""
    pk = f"{tenant_id}#rate#{name}#{scope}#{window}"
    if shard is not None:
        pk += f"#{shard}"
    return Counter(pk, limit, window_ends)


def spend_budgets(counters: Sequence[Counter]) -> None:
    """Add one to every counter in one conditional write, or raise :class:`Refused` (naming the spent
    counters; nothing moved) or :class:`Contended` (concurrent requests kept colliding; nothing moved)."""
    commit([], counters)
