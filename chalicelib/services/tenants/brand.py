"""The tenant as people see it: the name every message and page shows, and who a message comes from.

Read on the paths that send messages and serve pages, so no validation machinery here (that is
:mod:`chalicelib.services.tenants.identity`, where operators set it). Every message to a person comes
from its tenant: its subject starts with the display name, its text is signed with it, and legal
messages about a person's rights name the grievance officer.
"""

from __future__ import annotations

from typing import Any

from chalicelib.notify import Message, Sender
from chalicelib.services.access.auth import Caller
from chalicelib.services.tenants.tenancy import Tenant, require_tenant
from chalicelib.store import grievances, tenants


def display_name(tenant: Tenant) -> str:
    """The name people know the tenant by: its display name, else its name."""
    return tenants.identity_of(tenant)["display_name"] or str(tenant.name)


def sender(tenant: Tenant) -> Sender:
    """Who the tenant's messages come from (the settings left unset fall back in :mod:`chalicelib.notify`)."""
    identity = tenants.identity_of(tenant)
    return Sender(display_name=display_name(tenant), name=identity["sender_name"], address=identity["sender_address"],
                  reply_to=identity["reply_to"], accent_colour=identity["accent_colour"],
                  logo_url=identity["logo_url"])


def subject(tenant: Tenant, words: str) -> str:
    """``"<Display name>: <words>"``, so the inbox says who writes before it is opened."""
    return f"{display_name(tenant)}: {words}"


def officer_line(tenant: Tenant) -> str | None:
    """How messages about a person's rights name the grievance officer; None while the tenant names none."""
    officer = grievances.officer_of(tenant)
    if officer is None:
        return None
    return f"Grievance officer: {officer['name']} ({officer['contact']})."


def message(tenant: Tenant, *, channel: str, to: str, words: str, text: str, kind: str = "system",
            preferences_url: str | None = None, reference: str | None = None, rights: bool = False) -> Message:
    """A message from the tenant to a person. ``rights``: it concerns the person's rights, so an e-mail names
    the grievance officer (an SMS stays short)."""
    line = officer_line(tenant) if rights and channel == "email" else None
    if line and line not in text:
        text = f"{text}\n\nQuestions or a complaint about how your data is handled? {line}"
    return Message(channel=channel, to=to, subject=subject(tenant, words), text=text, kind=kind,
                   preferences_url=preferences_url, reference=reference, sender=sender(tenant))


def public_brand(caller: Caller) -> dict[str, Any]:
    """``GET /v1/brand``: what pages and the widget show of the caller's tenant (business settings only)."""
    tenant = require_tenant(caller.tenant_id)
    identity = tenants.identity_of(tenant)
    officer = grievances.officer_of(tenant)
    shown = None
    if officer is not None:
        shown = {"name": officer["name"], "contact": officer["contact"], "contact_kind": officer["kind"]}
    return {"display_name": display_name(tenant), "accent_colour": identity["accent_colour"],
            "logo_url": identity["logo_url"], "grievance_officer": shown}
