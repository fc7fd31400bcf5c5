"""Tenants: creation by operators, and the per-invocation view every other service reads."""

from __future__ import annotations

import re
import secrets
from typing import Annotated

from pydantic import Field, StringConstraints, field_validator, model_validator

from chalicelib import clock, invocation
from chalicelib.errors import NotFound
from chalicelib.services import audit
from chalicelib.services.identifiers import is_region, normalise_phone
from chalicelib.services.validation import StrictInput, parse_input
from chalicelib.store.tenants import TenantRecord, get_tenant

TENANT_ID = re.compile(r"^ten_[0-9a-f]{16}$")
DEFAULT_RETENTION_DAYS = {"leads": 365, "calls": 365, "consents": 1825, "audit": 365}

Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class CreateTenantInput(StrictInput):
    name: Name
    default_region: str
    own_numbers: list[Annotated[str, StringConstraints(max_length=40)]] = Field(default_factory=list, max_length=100)
    unknown_calls_become_leads: bool = False

    @field_validator("default_region")
    @classmethod
    def _region(cls, value: str) -> str:
        value = value.upper()
        if not is_region(value):
            raise ValueError("not a supported region code (ISO 3166-1 alpha-2, e.g. IN)")
        return value

    @model_validator(mode="after")
    def _numbers(self) -> CreateTenantInput:
        normalised = [normalise_phone(number, self.default_region) for number in self.own_numbers]
        object.__setattr__(self, "own_numbers", sorted(set(normalised)))
        return self


def create_tenant(payload: object) -> dict[str, str]:
    """Create a tenant with its own blind-index secret; returns ``{"tenant_id"}``."""
    from chalicelib.vault.blind_index import new_index_secret

    data = parse_input(CreateTenantInput, payload)
    tenant_id = "ten_" + secrets.token_hex(8)
    record = TenantRecord(
        tenant_id,
        name=data.name,
        default_region=data.default_region,
        own_numbers=data.own_numbers,
        unknown_calls_become_leads=data.unknown_calls_become_leads,
        wrapped_index_secret=new_index_secret(tenant_id),
        retention_days=dict(DEFAULT_RETENTION_DAYS),
        created_at=clock.now(),
    )
    record.save(condition=TenantRecord.tenant_id.does_not_exist())
    audit.record(tenant_id, audit.OPERATOR, "tenant.create", tenant_id)
    return {"tenant_id": tenant_id}


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
    value = configured.as_dict().get(kind) if hasattr(configured, "as_dict") else configured.get(kind)
    return int(value or DEFAULT_RETENTION_DAYS[kind])
