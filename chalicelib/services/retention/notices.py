"""Notices to people about their own data (not marketing): sent despite marketing opt-outs."""

from __future__ import annotations

from datetime import datetime

from chalicelib import clock
from chalicelib.notify import send
from chalicelib.services.rights.preferences import preferences_url
from chalicelib.services.tenants import brand
from chalicelib.services.tenants.tenancy import Tenant
from chalicelib.store import changes, leads, timeline
from chalicelib.store.leads import Lead


def send_retention_notice(lead: Lead, tenant: Tenant, now: datetime) -> str:
    """Warn once per expiry; the warning is recorded before sending, so a retry never sends twice."""
    if lead.legal_hold or not lead.wrapped_key or not lead.sealed or lead.expires_at is None:
        return "skipped"
    expiry = clock.iso(lead.expires_at)
    if lead.retention_notice_for == expiry or not leads.mark_warned(lead, expiry):
        return "already_told"
    values = leads.open_profile(lead)
    channel, to = ("email", values.get("email")) if values.get("email") else ("sms", values.get("phone"))
    if not to:
        return "no_contact"
    name = brand.display_name(tenant)
    text = (f"{name} keeps your details only for a limited time. They will be erased on "
            f"{lead.expires_at:%d %B %Y} under its retention policy. Nothing is needed from you; "
            f"if you still want to hear from {name}, just get in touch with them before then.")
    send(brand.message(tenant, channel=channel, to=to, words="your details will be erased soon", text=text,
                       kind="legal", preferences_url=preferences_url(tenant, lead.lead_id), rights=True))
    changes.save(timeline.new_event(leads.key_of(lead), "notice", now, lead.expires_at,
                                    info={"kind": "retention", "channel": channel, "erases_at": expiry}))
    return "sent"
