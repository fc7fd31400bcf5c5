"""The tenant as every request sees it: loaded once per invocation, no validation machinery.

Kept apart from tenant administration so the hot path (every authenticated request) does not
import pydantic. Helpers take the tenant object a use case already holds, never an id to look up.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from chalicelib.errors import NotFound
from chalicelib.store import tenants

# What services hold of a tenant: its settings as read once per invocation.
Tenant = tenants.Tenant

TENANT_ID = re.compile(r"^ten_[0-9a-f]{16}$")
DEFAULT_RETENTION_DAYS = {"leads": 365, "calls": 365, "consents": 1825, "audit": 365}


def require_tenant(tenant_id: str) -> Tenant:
    """The tenant, loaded once per invocation; an unknown or malformed id is ``not_found``."""
    if not isinstance(tenant_id, str) or not TENANT_ID.match(tenant_id):
        raise NotFound("No such tenant.")
    tenant = tenants.get(tenant_id)
    if tenant is None:
        raise NotFound("No such tenant.")
    return tenant


def retention_days(tenant: Tenant, kind: str) -> int:
    """Days the tenant keeps ``kind`` (leads, calls, consents, audit)."""
    return int(tenants.retention_of(tenant).get(kind) or DEFAULT_RETENTION_DAYS[kind])


def all_retention_days(tenant: Tenant) -> dict[str, int]:
    """Days the tenant keeps each kind: its own settings over the defaults."""
    return {**DEFAULT_RETENTION_DAYS, **tenants.retention_of(tenant)}


def expiry(tenant: Tenant, kind: str, start: datetime) -> datetime:
    """When something of ``kind`` that happened at ``start`` leaves (the tenant's retention for it)."""
    return start + timedelta(days=retention_days(tenant, kind))
