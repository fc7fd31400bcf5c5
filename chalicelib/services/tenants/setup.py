"""Tenant administration by operators (the per-request view is :mod:`chalicelib.services.tenants.tenancy`)."""

from __future__ import annotations

import secrets
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from chalicelib import clock
from chalicelib.errors import InternalError
from chalicelib.services import audit
from chalicelib.services.leads.identifiers import is_region, normalise_phone
from chalicelib.services.rights.grievances import officer
from chalicelib.services.tenants.tenancy import DEFAULT_RETENTION_DAYS
from chalicelib.services.validation import StrictInput, parse_input
from chalicelib.store import tenants
from chalicelib.vault.blind_index import new_index_secret

Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class CreateTenantInput(StrictInput):
    name: Name
    default_region: str
    own_numbers: list[Annotated[str, StringConstraints(max_length=40)]] = Field(default_factory=list, max_length=100)
    unknown_calls_become_leads: bool = False
    lawful_basis: Literal["consent", "legitimate_interest"] = "consent"
    max_shift_hours: Annotated[int, Field(ge=1, le=24)] = 12
    privacy_due_days: Annotated[int, Field(ge=1, le=90)] = 30
    grievance_officer: officer.OfficerInput | None = None
    grievance_due_days: officer.DueDays = officer.DEFAULT_DUE_DAYS

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
    data = parse_input(CreateTenantInput, payload)
    tenant_id = "ten_" + secrets.token_hex(8)
    tenant = tenants.create(
        tenant_id,
        name=data.name,
        default_region=data.default_region,
        own_numbers=data.own_numbers,
        unknown_calls_become_leads=data.unknown_calls_become_leads,
        lawful_basis=data.lawful_basis,
        max_shift_hours=data.max_shift_hours,
        privacy_due_days=data.privacy_due_days,
        wrapped_index_secret=new_index_secret(tenant_id),
        retention_days=dict(DEFAULT_RETENTION_DAYS),
        created_at=clock.now(),
    )
    if tenant is None:  # 64 random bits taken already: never expected, never overwritten
        raise InternalError()
    if data.grievance_officer is not None or data.grievance_due_days != officer.DEFAULT_DUE_DAYS:
        # A second write to the same item: without it the tenant is valid still (no officer, 90 days).
        officer.configure(tenant, data.grievance_officer, data.grievance_due_days)
    audit.record(tenant, audit.OPERATOR, "tenant.create", tenant_id)
    return {"tenant_id": tenant_id}
