"""Privacy policy versions: publishing (operators), the current version, acceptance, in-app notices."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import StringConstraints, field_validator, model_validator

from chalicelib import clock
from chalicelib.errors import NotFound, ValidationFailed, VersionExists
from chalicelib.services import audit, event_log, idempotency
from chalicelib.services.access.auth import Caller
from chalicelib.services.pagination import decode_cursor, encode_cursor
from chalicelib.services.policies.dispatch import audience_by_channel
from chalicelib.services.policies.progress import totals
from chalicelib.services.tenants.tenancy import require_tenant
from chalicelib.services.validation import StrictInput, parse_input
from chalicelib.store import policies
from chalicelib.store.policies import Policy

PLATFORM = "platform"
POLICY_ID = re.compile(r"^pol_[0-9a-f]{20}$")
INBOX_POSITION = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z#(?:pol_[0-9a-f]{20}|whk_[0-9a-f]{32})")
VERSION = r"^[\w.\-]{1,40}$"
# Longer than admin_publish_policy's Lambda timeout (300 s, .chalice/config.json).
OPERATOR_LEASE = timedelta(seconds=310)


class PublishInput(StrictInput):
    scope: Literal["platform", "tenant"]
    tenant_id: str | None = None
    version: Annotated[str, StringConstraints(pattern=VERSION)]
    url: Annotated[str, StringConstraints(min_length=8, max_length=500)]
    summary: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    effective_at: str

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not (value.startswith("https://") or value.startswith(("http://localhost", "http://127.0.0.1"))):
            raise ValueError("an https:// address")
        return value

    @field_validator("effective_at")
    @classmethod
    def _when(cls, value: str) -> str:
        try:
            clock.parse_timestamp(value)
        except ValueError:
            raise ValueError("an ISO 8601 time, like 2026-12-01T00:00:00Z") from None
        return value

    @model_validator(mode="after")
    def _scope(self) -> PublishInput:
        if (self.scope == "tenant") != (self.tenant_id is not None):
            raise ValueError("tenant_id goes with scope tenant, and only with it")
        return self


def publish_policy(payload: object) -> dict[str, Any]:
    """Store a version and plan its audience (counted now; the dispatcher sends to each once).

    One version per scope, claimed first under its name: an operator's retry of the same publication
    (after a lost answer, a timeout, a crash) gets the first answer; another text for a published
    version is ``version_exists``.
    """
    data = parse_input(PublishInput, payload)
    tenant = require_tenant(str(data.tenant_id)) if data.scope == "tenant" else None
    scope_key = tenant.tenant_id if tenant is not None else PLATFORM
    key = idempotency.natural_key(f"publish#{scope_key}#{data.version}", "admin_publish_policy", data.model_dump())
    # Rerunnable: the version's id is fixed and it is stored only if absent, so a rerun finds it.
    _, answer = idempotency.run_once(key, lambda: (200, _publish(data, scope_key)), lease=OPERATOR_LEASE,
                                     conflict=VersionExists(), rerunnable=True)
    return answer


def _publish(data: PublishInput, scope_key: str) -> dict[str, Any]:
    policy_id = policies.policy_id_of(scope_key, data.version)
    earlier = policies.by_version(scope_key, data.version)
    if earlier is not None and earlier.policy_id != policy_id:
        raise VersionExists()  # published before versions were claimed by name
    policy = policies.new_policy(
        policy_id, scope=data.scope, scope_key=scope_key, version=data.version, url=data.url,
        summary=data.summary, effective_at=clock.parse_timestamp(data.effective_at), created_at=clock.now(),
    )
    # A tenant's version is reported to that tenant's systems, in the transaction that stores it; a platform
    # version concerns every tenant and no one tenant's event log.
    published = event_log.build(scope_key, "policy.published", {
        "policy_id": policy_id, "version": data.version, "scope": data.scope}) if scope_key != PLATFORM else None
    audience = audience_by_channel(policy)
    stored = policies.publish(policy, sum(audience.values()), published, audience)
    if (stored.url, stored.summary, stored.effective_at) != (policy.url, policy.summary, policy.effective_at):
        raise VersionExists()  # published long ago (its claim has expired) with another text
    policy = stored
    if scope_key != PLATFORM:
        audit.record(scope_key, audit.OPERATOR, "policy.publish", policy.policy_id)
    return {"policy_id": policy.policy_id, "recipients": int(policy.recipients)}


def current_policy(caller: Caller) -> dict[str, str]:
    """The version in force for the caller's tenant: its own, else the platform's."""
    now = clock.now()
    policy = policies.in_force(caller.tenant_id, now) or policies.in_force(PLATFORM, now)
    if policy is None:
        raise NotFound("No policy has been published yet.")
    return policy_view(policy)


def policy_view(policy: Policy) -> dict[str, str]:
    return {"version": policy.version, "url": policy.url, "summary": policy.summary,
            "effective_at": clock.iso(policy.effective_at)}


def accept_policy(caller: Caller, version: str) -> dict[str, str]:
    """Record that this user accepted a version of their tenant's or the platform's policy."""
    if not re.match(VERSION, version or ""):
        raise NotFound("No such policy version.")
    policy = policies.by_version(caller.tenant_id, version) or policies.by_version(PLATFORM, version)
    if policy is None:
        raise NotFound("No such policy version.")
    now = clock.now()
    policies.accept(caller.key_id, caller.tenant_id, policy, now)
    audit.record(caller.tenant_id, caller.key_id, "policy.accept", policy.policy_id)
    return {"version": policy.version, "accepted_at": clock.iso(now)}


def notifications(caller: Caller, limit: int, cursor: str | None) -> dict[str, Any]:
    """The caller's in-app notices, newest first."""
    position = decode_cursor(cursor, "inbox")
    if position is not None and not (isinstance(position, str) and INBOX_POSITION.fullmatch(position)):
        raise ValidationFailed(details=[{"field": "cursor", "problem": "not a cursor this list gave out"}])
    items, next_position = policies.inbox_page(caller.key_id, limit, position)
    views = [{"kind": item.kind, "policy_version": item.version, "url": item.url, "summary": item.summary,
              "at": clock.iso(item.created_at),
              "accepted_at": clock.iso(item.accepted_at) if item.accepted_at else None} for item in items]
    next_cursor = encode_cursor("inbox", next_position) if next_position else None
    return {"items": views, "next_cursor": next_cursor}


class StatusInput(StrictInput):
    policy_id: str


def policy_status(payload: object) -> dict[str, int]:
    """How the version's notices stand: ``sent + failed + skipped + pending == recipients``, each recipient
    counted once by the ledger, and ``pending`` 0 once the dispatcher finished the version (whoever it never
    met, erased since publication, is skipped then)."""
    data = parse_input(StatusInput, payload)
    policy = policies.get(data.policy_id) if POLICY_ID.match(data.policy_id) else None
    if policy is None:
        raise NotFound("No such policy.")
    return totals(policy)
