"""The consent ledger: append-only entries, current state derived from them.

Withdrawing is as easy as granting: a new entry with ``false``. Marketing choices never affect
legal or system notices. A person whose data was erased stays suppressed for marketing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints

from chalicelib import clock
from chalicelib.errors import ValidationFailed
from chalicelib.services import audit
from chalicelib.services.auth import Caller
from chalicelib.services.leads.reading import is_live
from chalicelib.services.leads.timeline import new_event
from chalicelib.services.people import Identifier, identify, locate
from chalicelib.services.purposes import MARKETING, Purpose
from chalicelib.services.tenancy import retention_days
from chalicelib.services.validation import StrictInput, parse_input, present
from chalicelib.store.base import plain
from chalicelib.store.batch import write_all
from chalicelib.store.leads import LeadRecord
from chalicelib.store.timeline import TimelineRecord
from chalicelib.vault.minimise import truncate_ip


class ConsentInput(StrictInput):
    model_config = ConfigDict(json_schema_extra={
        **present("email", "phone", "visitor_id", exactly_one=True),
        "examples": [{"visitor_id": "v_8f2b1c9e", "grants": {"performance": True, "advertising": False},
                      "policy_version": "2026-11", "source": "cookie_banner"}],
    })

    email: str | None = None
    phone: str | None = None
    visitor_id: str | None = None
    grants: dict[Purpose, bool] = Field(min_length=1, max_length=7)
    policy_version: Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[\w.\-]+$")]
    source: Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[a-z0-9_\-]+$")] = "api"


def record_consent(caller: Caller, body: dict[str, Any], source_ip: str | None) -> dict[str, str]:
    data = parse_input(ConsentInput, body)
    identifier = identify(caller.tenant_id, data.model_dump())
    grants = {str(purpose): value for purpose, value in data.grants.items()}
    event = append(identifier, grants, data.policy_version, data.source, caller.key_id, source_ip)
    return {"consent_id": event.event_id}


def append(
    identifier: Identifier, grants: dict[str, bool], policy_version: str | None, source: str,
    actor_key_id: str | None, source_ip: str | None = None,
) -> TimelineRecord:
    """Write one ledger entry for the person (under their lead if they have one)."""
    now = clock.now()
    tenant_id = identifier.tenant_id
    located = locate(identifier)
    lead = _live_lead(tenant_id, located.lead_id)
    owner = lead.lead_id if lead else identifier.subject_owner
    expires_at = _expiry(tenant_id, now)
    info = {"grants": grants, "policy_version": policy_version, "source": source, "ip_prefix": truncate_ip(source_ip)}
    event = new_event(tenant_id, owner, "consent", now, expires_at, info={k: v for k, v in info.items() if v},
                      actor_key_id=actor_key_id)
    items: list[Any] = [event]
    if actor_key_id:
        items.append(audit.build(tenant_id, actor_key_id, "consent.record", lead.lead_id if lead else None))
    write_all(items)
    if lead is not None:
        _refresh_lead_state(lead, grants, located.suppressed)
    return event


def _expiry(tenant_id: str, now: datetime) -> datetime:
    return now + timedelta(days=retention_days(tenant_id, "consents"))


def _live_lead(tenant_id: str, lead_id: str | None) -> LeadRecord | None:
    if not lead_id:
        return None
    try:
        lead = LeadRecord.get(lead_id, consistent_read=True)
    except LeadRecord.DoesNotExist:
        return None
    return lead if lead.tenant_id == tenant_id and is_live(lead) else None


def _refresh_lead_state(lead: LeadRecord, grants: dict[str, bool], suppressed: bool) -> None:
    """Keep the lead's summary of current consents in step with the ledger."""
    current = plain(lead.consents)
    current.update({p: (v and not (suppressed and p in MARKETING)) for p, v in grants.items()})
    lead.update(actions=[LeadRecord.consents.set(current)])


def ledger(identifier: Identifier) -> tuple[list[TimelineRecord], bool, str | None]:
    """Every consent entry of the person, oldest first, whether marketing is suppressed, and the lead."""
    located = locate(identifier)
    owners = [identifier.subject_owner]
    if located.lead_id and _live_lead(identifier.tenant_id, located.lead_id):
        owners.append(located.lead_id)
    now = clock.now()
    entries: list[TimelineRecord] = []
    for owner in owners:
        entries += [event for event in TimelineRecord.query(owner, filter_condition=TimelineRecord.type == "consent")
                    if event.expires_at is None or event.expires_at > now]
    entries.sort(key=lambda event: event.sort_key)
    return entries, located.suppressed, located.lead_id


def current_state(entries: list[TimelineRecord], suppressed: bool) -> dict[str, bool]:
    """The latest choice per purpose; marketing is off for a suppressed person whatever they chose."""
    state: dict[str, bool] = {}
    for event in entries:
        grants = event.info.as_dict().get("grants", {}) if hasattr(event.info, "as_dict") else {}
        state.update({str(p): bool(v) for p, v in grants.items()})
    if suppressed:
        state.update({purpose: False for purpose in MARKETING})
    return state


def consent_report(caller: Caller, query: dict[str, str]) -> dict[str, Any]:
    """``GET /v1/consents``: current state and history for one identifier (admins; audited)."""
    unknown = set(query) - {"email", "phone", "visitor_id"}
    if unknown:
        raise ValidationFailed(details=[{"field": name[:40], "problem": "unknown query parameter"}
                                        for name in sorted(unknown)])
    identifier = identify(caller.tenant_id, dict(query))
    entries, suppressed, lead_id = ledger(identifier)
    audit.record(caller.tenant_id, caller.key_id, "consent.read", lead_id)
    history = [{"consent_id": e.event_id, "at": clock.iso(e.at),
                **(plain(e.info))} for e in entries]
    return {"current": current_state(entries, suppressed), "history": history, "suppressed": suppressed}
