"""What the admin report routes answer: privacy requests, policy versions with their notices' progress,
retention, field work by day, and the audit log. Ids, counts and dates: no personal data."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, WithJsonSchema

from chalicelib.api.responses.common import View
from chalicelib.api.responses.rights import RequestStatus

Day = Annotated[str, WithJsonSchema({"type": "string", "format": "date"})]


class PrivacyRequestSummary(View):
    """A request in the admins' list; ``days_left`` is to the due day (negative: overdue), counted at completion
    for a closed request."""

    request_id: str
    type: Literal["erasure", "access"]
    status: RequestStatus
    filed_at: datetime
    due_at: datetime
    days_left: int
    completed_at: datetime | None
    receipt: dict[str, int] | None
    rejection_reason: str | None


class PrivacyRequestPage(View):
    items: list[PrivacyRequestSummary]
    next_cursor: str | None


class ChannelProgress(View):
    sent: int
    failed: int
    pending: int
    skipped: int


class NoticeProgress(View):
    email: ChannelProgress
    sms: ChannelProgress
    in_app: ChannelProgress


class PolicyVersion(View):
    """A version and how its change notices stand: ``totals`` add up to ``recipients``."""

    policy_id: str
    version: str
    scope: Literal["platform", "tenant"]
    url: str
    summary: str
    effective_at: datetime
    published_at: datetime
    recipients: int
    progress: NoticeProgress
    totals: ChannelProgress


class PolicyVersionPage(View):
    items: list[PolicyVersion]
    next_cursor: str | None


class ExpiringDay(View):
    date: Day
    expiring: int


class LegalHold(View):
    lead_id: str
    reason: str
    since: datetime | None


class LegalHolds(View):
    count: int
    items: list[LegalHold]
    next_cursor: str | None


class RetentionReport(View):
    """Leads reaching their expiry on each of the next 30 days (today first), and the leads on legal hold."""

    from_: Day = Field(alias="from")
    days: list[ExpiringDay]
    legal_holds: LegalHolds


class AgentDay(View):
    agent_id: str
    stored: int
    ignored: dict[str, int]  # outside_shift, own_number, unknown_number
    shifts: int
    shift_minutes: int


class CallDay(View):
    date: Day
    agents: list[AgentDay]


class CallsReport(View):
    from_: Day = Field(alias="from")
    to: Day
    days: list[CallDay]


class AuditEntry(View):
    audit_id: str
    at: datetime
    actor_key_id: str
    action: str
    object_id: str | None


class AuditPage(View):
    items: list[AuditEntry]
    next_cursor: str | None
