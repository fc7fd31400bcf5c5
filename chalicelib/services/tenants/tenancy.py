"""The tenant as every request sees it: loaded once per invocation, no validation machinery.

Kept apart from tenant administration so the hot path (every authenticated request) does not
import pydantic.
"""

from __future__ import annotations

import re

from chalicelib import invocation
from chalicelib.errors import NotFound
from chalicelib.store.base import plain
from chalicelib.store.models.tenants import TenantRecord, get_tenant

TENANT_ID = re.compile(r"^ten_[0-9a-f]{16}$")
DEFAULT_RETENTION_DAYS = {"leads": 365, "calls": 365, "consents": 1825, "audit": 365}


def require_tenant(tenant_id: str) -> TenantRecord:
    """The tenant, loaded once per invocation; an unknown or malformed id is ``not_found``."""
    if not isinstance(tenant_id, str) or not TENANT_ID.match(tenant_id):
        raise NotFound("No such tenant.")

    def load() -> TenantRecord:
        record = get_tenant(tenant_id)
        if record is None:
            raise NotFound("No such tenant.")
        return record

    return invocation.cached(f"tenant:{tenant_id}", load)


def retention_days(tenant_id: str, kind: str) -> int:
    """Days the tenant keeps ``kind`` (leads, calls, consents, audit)."""
    configured = require_tenant(tenant_id).retention_days
    values = plain(configured)
    return int(values.get(kind) or DEFAULT_RETENTION_DAYS[kind])
