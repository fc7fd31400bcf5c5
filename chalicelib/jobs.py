"""Scheduled functions (``@schedule``). Thin: they call services with the Lambda's deadline.

Each issue that brings a scheduled function adds it to ``SCHEDULED_FUNCTIONS`` and registers a
handler below; the CLI's ``run-job`` and the local runner's scheduler read the same table.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from chalice import Blueprint, Rate

from chalicelib.runtime import run_job


class Schedule(NamedTuple):
    every_minutes: int
    target: str


# name -> (rate, "module:function" taking the Lambda context and returning a summary dict).
SCHEDULED_FUNCTIONS: dict[str, Schedule] = {
    "privacy_worker": Schedule(1, "chalicelib.services.rights.worker:privacy_worker"),
    "purge_expired": Schedule(60, "chalicelib.services.retention.purge:purge_expired"),
    "retention_notices": Schedule(24 * 60, "chalicelib.services.retention.purge:retention_notices"),
    "dispatch_notifications": Schedule(5, "chalicelib.services.policies.dispatch:dispatch_notifications"),
}

jobs = Blueprint(__name__)


def invoke_job(name: str, context: Any) -> dict[str, Any]:
    return run_job(name, SCHEDULED_FUNCTIONS[name].target, context)


@jobs.schedule(Rate(1, unit=Rate.MINUTES), name="privacy_worker")
def privacy_worker(event: Any, context: Any) -> dict[str, Any]:
    return invoke_job("privacy_worker", context)


@jobs.schedule(Rate(1, unit=Rate.HOURS), name="purge_expired")
def purge_expired(event: Any, context: Any) -> dict[str, Any]:
    return invoke_job("purge_expired", context)


@jobs.schedule(Rate(1, unit=Rate.DAYS), name="retention_notices")
def retention_notices(event: Any, context: Any) -> dict[str, Any]:
    return invoke_job("retention_notices", context)


@jobs.schedule(Rate(5, unit=Rate.MINUTES), name="dispatch_notifications")
def dispatch_notifications(event: Any, context: Any) -> dict[str, Any]:
    return invoke_job("dispatch_notifications", context)
