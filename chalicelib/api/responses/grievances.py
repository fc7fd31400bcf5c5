"""What the grievance routes answer: the officer, a filed complaint, its state, the queue, one grievance."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from chalicelib.api.responses.common import View

GrievanceStatus = Literal["pending_verification", "open", "answered", "rejected"]


class Officer(View):
    name: str
    contact: str
    contact_kind: Literal["email", "phone"]


class GrievanceOfficer(View):
    """Who answers complaints, and within how many days; ``officer`` is null until the tenant names one."""

    officer: Officer | None
    due_days: int


class GrievanceFiled(View):
    grievance_id: str
    status: Literal["pending_verification"]
    due_at: datetime


class GrievanceState(View):
    status: GrievanceStatus


class GrievanceSummary(View):
    """A queue entry: ids and dates only."""

    grievance_id: str
    status: GrievanceStatus
    created_at: datetime
    due_at: datetime
    answered_at: datetime | None
    overdue: bool


class GrievancePage(View):
    items: list[GrievanceSummary]
    next_cursor: str | None


class GrievanceView(GrievanceSummary):
    """One grievance opened: the complaint, the answer and the person's address (null once shredded)."""

    verified_at: datetime | None
    officer_notified: bool
    answer_sent: bool
    contact_kind: Literal["email", "phone"]
    contact: str | None
    text: str | None
    answer: str | None
