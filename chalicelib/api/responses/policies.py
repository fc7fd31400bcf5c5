"""What the policy routes answer: the version in force, an acceptance, the caller's notices."""

from __future__ import annotations

from datetime import datetime

from chalicelib.api.responses.common import View


class PolicyView(View):
    version: str
    url: str
    summary: str
    effective_at: datetime


class Acceptance(View):
    version: str
    accepted_at: datetime


class Notice(View):
    kind: str
    policy_version: str
    url: str
    summary: str
    at: datetime
    accepted_at: datetime | None


class NoticePage(View):
    items: list[Notice]
    next_cursor: str | None
