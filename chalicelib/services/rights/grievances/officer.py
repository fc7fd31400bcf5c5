"""The tenant's grievance officer: who people complain to, and within how many days they are answered.

Set with ``admin_create_tenant`` or ``admin_set_grievance_officer``; shown on the portal (any form
key of the tenant may read it) and in every grievance message.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from chalicelib.errors import NoGrievanceOfficer, ValidationFailed
from chalicelib.services import audit
from chalicelib.services.access.auth import Caller
from chalicelib.services.leads.identifiers import normalise_email, normalise_phone
from chalicelib.services.tenants.tenancy import Tenant, require_tenant
from chalicelib.services.validation import StrictInput, field_error, parse_input, present
from chalicelib.store import grievances

DEFAULT_DUE_DAYS = 90
DueDays = Annotated[int, Field(ge=1, le=90)]
CHANNEL_OF = {"email": "email", "phone": "sms"}


class OfficerInput(StrictInput):
    model_config = ConfigDict(json_schema_extra=present("email", "phone", exactly_one=True))

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    email: Annotated[str, StringConstraints(max_length=254)] | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None

    @model_validator(mode="after")
    def _one_contact(self) -> OfficerInput:
        if (self.email is None) == (self.phone is None):
            raise field_error("grievance_officer.email|phone", "give exactly one")
        return self


class SetOfficerInput(StrictInput):
    tenant_id: str
    grievance_officer: OfficerInput | None = None
    grievance_due_days: DueDays | None = None


def officer_setting(officer: OfficerInput, region: str) -> dict[str, str]:
    """What is stored: the name, and the contact normalised (an e-mail address or an E.164 number)."""
    try:
        if officer.email is not None:
            return {"name": officer.name, "kind": "email", "contact": normalise_email(officer.email)}
        return {"name": officer.name, "kind": "phone", "contact": normalise_phone(officer.phone or "", region)}
    except ValueError as error:
        kind = "email" if officer.email is not None else "phone"
        raise ValidationFailed(details=[{"field": f"grievance_officer.{kind}", "problem": str(error)}]) from None


def configure(tenant: Tenant, officer: OfficerInput | None, due_days: int | None) -> None:
    """Store the officer and/or the due days (what is None stays as it is)."""
    setting = officer_setting(officer, tenant.default_region) if officer is not None else None
    grievances.set_officer(tenant, setting, due_days)


def settings_view(tenant: Tenant) -> dict[str, Any]:
    return {"grievance_officer": grievances.officer_of(tenant), "grievance_due_days": grievances.due_days_of(tenant)}


def set_grievance_officer(payload: object) -> dict[str, Any]:
    """``admin_set_grievance_officer``: name the officer, change the due days, or both."""
    data = parse_input(SetOfficerInput, payload)
    if data.grievance_officer is None and data.grievance_due_days is None:
        raise ValidationFailed(details=[{"field": "grievance_officer|grievance_due_days", "problem": "give one"}])
    tenant = require_tenant(data.tenant_id)
    configure(tenant, data.grievance_officer, data.grievance_due_days)
    audit.record(tenant, audit.OPERATOR, "tenant.set_grievance_officer", data.tenant_id)
    return {"tenant_id": data.tenant_id, **settings_view(tenant)}


def required_officer(tenant: Tenant) -> dict[str, str]:
    """The officer a grievance goes to; without one, nobody could answer it (409)."""
    officer = grievances.officer_of(tenant)
    if officer is None:
        raise NoGrievanceOfficer()
    return officer


def public_officer(caller: Caller) -> dict[str, Any]:
    """``GET /v1/grievance-officer``: what the portal shows (a business contact; nothing about any person)."""
    tenant = require_tenant(caller.tenant_id)
    officer = grievances.officer_of(tenant)
    shown = None
    if officer is not None:
        shown = {"name": officer["name"], "contact": officer["contact"], "contact_kind": officer["kind"]}
    return {"officer": shown, "due_days": grievances.due_days_of(tenant)}


def officer_line(officer: dict[str, str]) -> str:
    """How every grievance message names the officer."""
    return f"Grievance officer: {officer['name']} ({officer['contact']})."
