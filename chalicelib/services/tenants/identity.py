"""``admin_set_tenant_identity``: how a tenant appears to people, checked before it is stored.

The settings go into headers (From, Reply-To, Subject) and HTML, so each is refused unless it is
safe there: names without control or direction-override characters (no header injection, no text
that reads backwards), addresses that mail systems accept (ASCII, so SES and any SMTP server take
them), a colour of exactly ``#rrggbb``, and a logo at an ``https`` URL with no user name or password.
A setting given as null is cleared (back to its default); one left out stays as it is.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import StringConstraints, field_validator

from chalicelib.errors import ValidationFailed
from chalicelib.services import audit
from chalicelib.services.tenants import brand
from chalicelib.services.tenants.tenancy import Tenant, require_tenant
from chalicelib.services.validation import StrictInput, parse_input
from chalicelib.store import tenants

Label = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Address = Annotated[str, StringConstraints(min_length=3, max_length=254)]
Colour = Annotated[str, StringConstraints(min_length=7, max_length=7)]
Url = Annotated[str, StringConstraints(min_length=9, max_length=500)]

COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
# Bidirectional overrides and isolates: they make a name read differently from what it is.
DIRECTION_MARKS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
URL_REFUSED = frozenset("\"'<>\\`{}|^ ")


def _label(value: str) -> str:
    for char in value:
        if unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in DIRECTION_MARKS:
            raise ValueError("must be one line of text, without control or direction-override characters")
    return value


def _address(value: str) -> str:
    from email_validator import EmailNotValidError, validate_email

    try:
        result = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        raise ValueError("not a valid e-mail address (ASCII only, e.g. privacy@acme.example)") from None
    return str(result.ascii_email)


def _logo(value: str) -> str:
    if any(char in URL_REFUSED or unicodedata.category(char).startswith("C") for char in value):
        raise ValueError("must be a URL without spaces, quotes or control characters")
    parts = urlsplit(value)
    if parts.scheme.lower() != "https":
        raise ValueError("must be an https URL")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValueError("must not carry a user name or password")
    try:
        parts.port  # noqa: B018 - a bad port raises here
    except ValueError:
        raise ValueError("has an invalid port") from None
    if not HOST.match((parts.hostname or "").lower()):
        raise ValueError("must name a host by its domain name (e.g. https://acme.example/logo.png)")
    return value


class IdentityInput(StrictInput):
    tenant_id: str
    display_name: Label | None = None
    sender_name: Label | None = None
    sender_address: Address | None = None
    reply_to: Address | None = None
    accent_colour: Colour | None = None
    logo_url: Url | None = None

    @field_validator("display_name", "sender_name")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        return None if value is None else _label(value)

    @field_validator("sender_address", "reply_to")
    @classmethod
    def _mail(cls, value: str | None) -> str | None:
        return None if value is None else _address(value)

    @field_validator("accent_colour")
    @classmethod
    def _colour(cls, value: str | None) -> str | None:
        if value is not None and not COLOUR.match(value):
            raise ValueError("must be a colour written #rrggbb (e.g. #0b57d0)")
        return None if value is None else value.lower()

    @field_validator("logo_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        return None if value is None else _logo(value)


def identity_view(tenant: Tenant) -> dict[str, Any]:
    """Every setting as in force: the display name resolved (the tenant's name when unset), the rest or null."""
    return {**tenants.identity_of(tenant), "display_name": brand.display_name(tenant)}


def set_tenant_identity(payload: object) -> dict[str, Any]:
    """``admin_set_tenant_identity``: set (a value) or clear (null) any of the identity settings."""
    data = parse_input(IdentityInput, payload)
    changes = {name: getattr(data, name) for name in tenants.IDENTITY_SETTINGS if name in data.model_fields_set}
    if not changes:
        raise ValidationFailed(details=[{"field": "|".join(tenants.IDENTITY_SETTINGS), "problem": "give at least one"}])
    tenant = require_tenant(data.tenant_id)
    tenants.set_identity(tenant, changes)
    audit.record(tenant, audit.OPERATOR, "tenant.set_identity", data.tenant_id)
    return {"tenant_id": data.tenant_id, **identity_view(tenant)}
