"""What a lead submission may hold, checked strictly before anything is stored."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints, WithJsonSchema, field_validator, model_validator

from chalicelib.services.rights.purposes import Purpose
from chalicelib.services.validation import StrictInput, field_error, present

Text200 = Annotated[str, StringConstraints(max_length=200)]
Email = Annotated[str, StringConstraints(min_length=3, max_length=254),
                  WithJsonSchema({"type": "string", "format": "email", "minLength": 3, "maxLength": 254})]
STAGES = ("new", "contacted", "qualified", "won", "lost")


def clean_text(value: str) -> str:
    """NFC, trimmed, no control or invisible format characters (they hide in names and break exports)."""
    value = unicodedata.normalize("NFC", value).strip()
    if any(unicodedata.category(char) in ("Cc", "Cf", "Co", "Cs") for char in value):
        raise ValueError("contains control or invisible characters")
    return value


class LeadConsentInput(StrictInput):
    purposes: list[Purpose] = Field(max_length=7)
    policy_version: Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[\w.\-]+$")]


class UtmInput(StrictInput):
    source: Text200 | None = None
    medium: Text200 | None = None
    campaign: Text200 | None = None
    term: Text200 | None = None
    content: Text200 | None = None


class LeadInput(StrictInput):
    model_config = ConfigDict(json_schema_extra={
        **present("phone", "email", exactly_one=False),
        "examples": [{"name": "Asha Rao", "phone": "+91 98450 12345", "email": "asha.rao@example.com",
                      "source": "web", "consent": {"purposes": ["contact", "marketing_email"],
                                                   "policy_version": "2026-11"},
                      "utm": {"source": "newsletter", "campaign": "winter"}}],
    })

    name: Text200 | None = None
    phone: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = None
    email: Email | None = None
    source: Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[a-z0-9_\-]+$")] = "web"
    fields: dict[Annotated[str, StringConstraints(max_length=64)], Any] = Field(default_factory=dict, max_length=50)
    consent: LeadConsentInput | None = None
    date_of_birth: Annotated[str, StringConstraints(max_length=10)] | None = None
    utm: UtmInput | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else (clean_text(value) or None)

    @field_validator("date_of_birth")
    @classmethod
    def _dob(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            born = date.fromisoformat(value)
        except ValueError:
            raise ValueError("a date YYYY-MM-DD") from None
        if born.year < 1900:
            raise ValueError("a date after 1900")
        return born.isoformat()

    @model_validator(mode="after")
    def _some_contact(self) -> LeadInput:
        if not self.phone and not self.email:
            raise field_error("phone|email", "give a phone number or an e-mail address")
        return self


class LeadPatch(StrictInput):
    model_config = ConfigDict(json_schema_extra={"minProperties": 1, "examples": [{"stage": "contacted"}]})

    stage: Annotated[str, StringConstraints(pattern=r"^(new|contacted|qualified|won|lost)$")] | None = None
    assigned_agent: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = None
    fields: dict[Annotated[str, StringConstraints(max_length=64)], Any] | None = Field(default=None, max_length=50)

    @model_validator(mode="after")
    def _something(self) -> LeadPatch:
        if not self.model_fields_set:
            raise ValueError("nothing to change: send stage, assigned_agent or fields")
        return self
