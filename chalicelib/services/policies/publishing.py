"""Privacy policy versions: publishing (operators), the current version, acceptance, in-app notices."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import StringConstraints, field_validator, model_validator

from chalicelib import clock
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.services import audit
from chalicelib.services.access.auth import Caller
from chalicelib.services.pagination import decode_cursor, encode_cursor
from chalicelib.services.tenants.tenancy import require_tenant
from chalicelib.services.validation import StrictInput, parse_input
from chalicelib.store.models.policies import InboxRecord, PolicyRecord

PLATFORM = "platform"
POLICY_ID = re.compile(r"^pol_[0-9a-f]{20}$")
INBOX_POSITION = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z#pol_[0-9a-f]{20}")
VERSION = r"^[\w.\-]{1,40}$"


def effective_sort(effective_at: datetime, policy_id: str) -> str:
    return f"{clock.sort_stamp(effective_at)}#{policy_id}"


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
    """Store a version and plan its audience (counted now; the dispatcher sends to each once)."""
    from chalicelib.services.policies.dispatch import count_audience

    data = parse_input(PublishInput, payload)
    scope_key = PLATFORM
    if data.scope == "tenant":
        scope_key = require_tenant(str(data.tenant_id)).tenant_id
    _reserve_version(scope_key, data.version)
    now = clock.now()
    policy_id = "pol_" + secrets.token_hex(10)
    effective_at = clock.parse_timestamp(data.effective_at)
    policy = PolicyRecord(
        policy_id, scope=data.scope, scope_key=scope_key, effective_sort=effective_sort(effective_at, policy_id),
        version=data.version, url=data.url, summary=data.summary, effective_at=effective_at, created_at=now,
    )
    policy.recipients = count_audience(policy)
    policy.save()
    if data.scope == "tenant":
        audit.record(scope_key, audit.OPERATOR, "policy.publish", policy_id)
    return {"policy_id": policy_id, "recipients": int(policy.recipients)}


def _reserve_version(scope_key: str, version: str) -> None:
    """One policy per version and scope, even if an operator's retry races the first publication."""
    from pynamodb.exceptions import PutError

    from chalicelib.store.models.claims import NoticeClaimRecord

    try:
        NoticeClaimRecord(f"policyver#{scope_key}#{version}", status="published").save(
            condition=NoticeClaimRecord.pk.does_not_exist())
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise Conflict("This version was published already.", code="version_exists") from None
        raise


def _by_version(scope_key: str, version: str) -> PolicyRecord | None:
    return next(iter(PolicyRecord.by_scope.query(scope_key, filter_condition=PolicyRecord.version == version)), None)


def _latest(scope_key: str, now: datetime) -> PolicyRecord | None:
    query = PolicyRecord.by_scope.query(scope_key, PolicyRecord.effective_sort <= f"{clock.sort_stamp(now)}~",
                                        scan_index_forward=False, limit=1)
    return next(iter(query), None)


def current_policy(caller: Caller) -> dict[str, str]:
    """The version in force for the caller's tenant: its own, else the platform's."""
    now = clock.now()
    policy = _latest(caller.tenant_id, now) or _latest(PLATFORM, now)
    if policy is None:
        raise NotFound("No policy has been published yet.")
    return policy_view(policy)


def policy_view(policy: PolicyRecord) -> dict[str, str]:
    return {"version": policy.version, "url": policy.url, "summary": policy.summary,
            "effective_at": clock.iso(policy.effective_at)}


def accept_policy(caller: Caller, version: str) -> dict[str, str]:
    """Record that this user accepted a version of their tenant's or the platform's policy."""
    if not re.match(VERSION, version or ""):
        raise NotFound("No such policy version.")
    policy = _by_version(caller.tenant_id, version) or _by_version(PLATFORM, version)
    if policy is None:
        raise NotFound("No such policy version.")
    now = clock.now()
    inbox_item(caller.key_id, caller.tenant_id, policy).update(actions=[
        InboxRecord.accepted_at.set(now), InboxRecord.tenant_id.set(caller.tenant_id),
        InboxRecord.policy_id.set(policy.policy_id), InboxRecord.version.set(policy.version),
        InboxRecord.url.set(policy.url), InboxRecord.summary.set(policy.summary),
        InboxRecord.created_at.set(now), InboxRecord.kind.set("policy"),
    ])
    audit.record(caller.tenant_id, caller.key_id, "policy.accept", policy.policy_id)
    return {"version": policy.version, "accepted_at": clock.iso(now)}


def inbox_item(key_id: str, tenant_id: str, policy: PolicyRecord) -> InboxRecord:
    return InboxRecord(key_id, f"{policy.effective_sort}", tenant_id=tenant_id, policy_id=policy.policy_id,
                       version=policy.version, url=policy.url, summary=policy.summary, created_at=clock.now())


def notifications(caller: Caller, limit: int, cursor: str | None) -> dict[str, Any]:
    """The caller's in-app notices, newest first."""
    position = decode_cursor(cursor, "inbox")
    if position is not None and not (isinstance(position, str) and INBOX_POSITION.fullmatch(position)):
        raise ValidationFailed(details=[{"field": "cursor", "problem": "not a cursor this list gave out"}])
    start = {"key_id": {"S": caller.key_id}, "sort_key": {"S": position}} if position else None
    query = InboxRecord.query(caller.key_id, scan_index_forward=False, limit=limit, last_evaluated_key=start)
    items = list(query)
    views = [{"kind": item.kind, "policy_version": item.version, "url": item.url, "summary": item.summary,
              "at": clock.iso(item.created_at),
              "accepted_at": clock.iso(item.accepted_at) if item.accepted_at else None} for item in items]
    next_cursor = encode_cursor("inbox", items[-1].sort_key) if query.last_evaluated_key and items else None
    return {"items": views, "next_cursor": next_cursor}


class StatusInput(StrictInput):
    policy_id: str


def policy_status(payload: object) -> dict[str, int]:
    data = parse_input(StatusInput, payload)
    if not POLICY_ID.match(data.policy_id):
        raise NotFound("No such policy.")
    try:
        policy = PolicyRecord.get(data.policy_id, consistent_read=True)
    except PolicyRecord.DoesNotExist:
        raise NotFound("No such policy.") from None
    recipients, sent, failed = int(policy.recipients), int(policy.sent), int(policy.failed)
    return {"recipients": recipients, "sent": sent, "failed": failed, "pending": max(0, recipients - sent - failed)}
