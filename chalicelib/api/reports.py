"""Admins' reports behind the staff console: privacy requests, policy notices, retention, field work, audit log.

Each is served from one query (or a few, named in its service) or from counters kept with the writes, never a
scan, and each is usable on its own with an admin key.
"""

from __future__ import annotations

from typing import Any

from chalicelib.api.endpoint import ApiBlueprint, Call, endpoint
from chalicelib.api.operations import ADMINS, PAGED, Operation

reports = ApiBlueprint(__name__)

RESPONSES = "chalicelib.api.responses.reports"


@endpoint(reports, Operation(
    "GET /v1/privacy-requests", "listPrivacyRequests",
    "The tenant's privacy requests: open ones most urgent first (days left to the due date), closed ones newest "
    "first (no personal data)", ADMINS, f"{RESPONSES}:PrivacyRequestPage", query=("request_status", *PAGED)))
def list_privacy_requests(call: Call) -> Any:
    from chalicelib.services.pagination import parse_limit
    from chalicelib.services.reports import requests

    return requests.list_requests(call.caller, call.query.get("status"), parse_limit(call.query.get("limit")),
                                  call.query.get("cursor"))


@endpoint(reports, Operation(
    "GET /v1/policies", "listPolicies",
    "The tenant's policy versions, newest first, with their change notices' progress per channel", ADMINS,
    f"{RESPONSES}:PolicyVersionPage", query=PAGED))
def list_policies(call: Call) -> Any:
    from chalicelib.services.pagination import parse_limit
    from chalicelib.services.policies import progress

    return progress.list_versions(call.caller, parse_limit(call.query.get("limit")), call.query.get("cursor"))


@endpoint(reports, Operation(
    "GET /v1/reports/retention", "getRetentionReport",
    "Leads reaching their expiry on each of the next 30 days, and the leads on legal hold (paged)", ADMINS,
    f"{RESPONSES}:RetentionReport", query=PAGED))
def retention_report(call: Call) -> Any:
    from chalicelib.services.pagination import parse_limit
    from chalicelib.services.reports import retention

    return retention.retention_report(call.caller, parse_limit(call.query.get("limit")), call.query.get("cursor"))


@endpoint(reports, Operation(
    "GET /v1/reports/calls", "getCallsReport",
    "Calls per agent per day (stored, ignored by reason) and shifts, from daily counters (31 days at most)",
    ADMINS, f"{RESPONSES}:CallsReport", query=("from", "to")))
def calls_report(call: Call) -> Any:
    from chalicelib.services.reports import calls

    return calls.calls_report(call.caller, call.query.get("from"), call.query.get("to"))


@endpoint(reports, Operation(
    "GET /v1/audit", "listAudit", "The tenant's audit log, newest first, by actor and action (reading it is audited)",
    ADMINS, f"{RESPONSES}:AuditPage", query=("actor", "action", "from", "to", *PAGED)))
def list_audit(call: Call) -> Any:
    from chalicelib.services.pagination import parse_limit
    from chalicelib.services.reports import audit

    return audit.list_audit(call.caller, call.query, parse_limit(call.query.get("limit")), call.query.get("cursor"))
