"""What the rights routes answer: consents, the preferences link, privacy requests and exports."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic.json_schema import SkipJsonSchema

from chalicelib.api.responses.common import OpenView, View, absent
from chalicelib.api.responses.leads import LeadView

RequestStatus = Literal["pending_verification", "verified", "in_progress", "completed", "rejected", "expired"]


class ConsentRecorded(View):
    consent_id: str
    # Marketing purposes of this request waiting for the person's confirmation (double opt-in).
    pending_purposes: list[str]


class ConfirmedItems(View):
    purposes: list[str]
    identifiers: list[str]


class Confirmed(View):
    """What the link confirmed: marketing purposes now granted, identifiers now the lead's own."""

    confirmed: ConfirmedItems


class ConsentEntry(OpenView):
    """One ledger entry: its grants, policy version, source and the caller's /24 or /48."""

    consent_id: str
    at: datetime
    grants: dict[str, bool]


class ConsentReport(View):
    current: dict[str, bool]
    history: list[ConsentEntry]
    suppressed: bool


class Preferences(View):
    grants: dict[str, bool]


class RequestFiled(View):
    """The same answer whether or not any data about the person exists."""

    request_id: str
    status: Literal["pending_verification", "verified"]
    due_at: datetime


class RequestState(View):
    status: RequestStatus


class WebhookProof(View):
    """One webhook told of an erasure (``lead.erased``), read from its delivery records when asked."""

    webhook_id: str
    events: int  # the erasure's lead.erased events
    told: int  # deliveries stored for this webhook
    acknowledged: int  # of them answered with a 2xx
    status: Literal["acknowledged", "pending", "failed", "not_told"]


class RequestView(View):
    request_id: str
    type: Literal["erasure", "access"]
    status: RequestStatus
    due_at: datetime
    completed_at: datetime | None
    receipt: dict[str, int] | None
    rejection_reason: str | SkipJsonSchema[None] = absent()
    # To an admin, for an erasure that deleted leads: which webhooks were told and acknowledged.
    webhooks: list[WebhookProof] | SkipJsonSchema[None] = absent()


class Export(View):
    """Everything held about the person when the access request ran."""

    request_id: str
    generated_at: datetime
    leads: list[LeadView]
    timeline: list[dict[str, Any]]
    calls: list[dict[str, Any]]
    consents_without_lead: list[dict[str, Any]]
