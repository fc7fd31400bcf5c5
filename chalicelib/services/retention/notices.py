"""Notices to people about their own data (not marketing): sent despite marketing opt-outs."""

from __future__ import annotations

import json
from datetime import datetime

from pynamodb.exceptions import UpdateError

from chalicelib import clock
from chalicelib.notify import Message, send
from chalicelib.services.leads.timeline import new_event
from chalicelib.services.rights.preferences import preferences_url
from chalicelib.services.tenants.tenancy import require_tenant
from chalicelib.store.batch import write_all
from chalicelib.store.models.leads import LeadRecord
from chalicelib.vault import envelope


def send_retention_notice(lead: LeadRecord, now: datetime) -> str:
    """Warn once per expiry; the claim is written before sending, so a retry never sends twice."""
    if lead.legal_hold or not lead.wrapped_key or not lead.sealed or lead.expires_at is None:
        return "skipped"
    expiry = clock.iso(lead.expires_at)
    if lead.retention_notice_for == expiry:
        return "already_told"
    not_told = LeadRecord.retention_notice_for.does_not_exist() | (LeadRecord.retention_notice_for != expiry)
    try:
        lead.update(actions=[LeadRecord.retention_notice_for.set(expiry)],
                    condition=not_told & (LeadRecord.expires_at == lead.expires_at))
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return "already_told"
        raise
    envelope.adopt_key(lead.tenant_id, lead.lead_id, lead.wrapped_key)
    values = json.loads(envelope.unseal(lead.tenant_id, lead.lead_id, "profile", lead.sealed))
    channel, to = ("email", values.get("email")) if values.get("email") else ("sms", values.get("phone"))
    if not to:
        return "no_contact"
    tenant = require_tenant(lead.tenant_id)
    text = (f"{tenant.name} keeps your details only for a limited time. They will be erased on "
            f"{lead.expires_at:%d %B %Y} under its retention policy. Nothing is needed from you; "
            f"if you still want to hear from {tenant.name}, just get in touch with them before then.")
    send(Message(channel=channel, to=to, subject="Your details will be erased soon", text=text, kind="legal",
                 preferences_url=preferences_url(lead.tenant_id, lead.lead_id)))
    write_all([new_event(lead.tenant_id, lead.lead_id, "notice", now, lead.expires_at,
                         info={"kind": "retention", "channel": channel, "erases_at": expiry})])
    return "sent"
