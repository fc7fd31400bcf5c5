"""Scheduled functions (``@schedule``). Thin: they call services with the Lambda's deadline.

``SCHEDULED_FUNCTIONS`` is the one declaration: each entry becomes a Chalice scheduled function of that
name and rate, and the CLI's ``run-job`` and the local runner's scheduler read the same table, so adding
a scheduled function is adding an entry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from chalice import Blueprint, Rate
from chalice.app import CloudWatchEvent

from chalicelib.runtime import run_job, run_records


class Schedule(NamedTuple):
    every_minutes: int
    target: str

    @property
    def rate(self) -> Rate:
        """In the largest whole unit (``rate(1 hour)``, not ``rate(60 minutes)``), as the templates spell it."""
        for unit, minutes in ((Rate.DAYS, 24 * 60), (Rate.HOURS, 60)):
            if self.every_minutes % minutes == 0:
                return Rate(self.every_minutes // minutes, unit=unit)
        return Rate(self.every_minutes, unit=Rate.MINUTES)


# name -> (rate, "module:function" taking the Lambda context and returning a summary dict).
SCHEDULED_FUNCTIONS: dict[str, Schedule] = {
    "privacy_worker": Schedule(1, "chalicelib.services.rights.worker:privacy_worker"),
    "purge_expired": Schedule(60, "chalicelib.services.retention.purge:purge_expired"),
    "retention_notices": Schedule(24 * 60, "chalicelib.services.retention.purge:retention_notices"),
    "dispatch_notifications": Schedule(5, "chalicelib.services.policies.dispatch:dispatch_notifications"),
    "retry_webhooks": Schedule(1, "chalicelib.services.webhooks.retries:retry_webhooks"),
}

# Functions triggered by a table's stream: name -> "module:function" taking the records and the Lambda context.
# The deployed trigger is declared in app.py; the local run's stream poller calls the same target.
STREAM_FUNCTIONS: dict[str, str] = {
    "deliver_webhooks": "chalicelib.services.webhooks.stream:deliver_records",
}
# Chalice wants a stream ARN when it packages; the merge template (deploy/template.py) replaces it with the
# events table's own ``StreamArn``, which exists only once CloudFormation made the table.
STREAM_ARN_PLACEHOLDER = "arn:aws:dynamodb:us-east-1:000000000000:table/events/stream/set-by-merge-template"

jobs = Blueprint(__name__)


def invoke_job(name: str, context: Any) -> dict[str, Any]:
    return run_job(name, SCHEDULED_FUNCTIONS[name].target, context)


def invoke_stream(name: str, records: list[dict[str, Any]], context: Any) -> dict[str, Any]:
    return run_records(name, STREAM_FUNCTIONS[name], records, context)


def _register(name: str, schedule: Schedule) -> Callable[[Any, Any], dict[str, Any]]:
    """The scheduled function ``name``; Chalice names its handler ``chalicelib.jobs.<name>``.

    Chalice calls a schedule's handler with one argument, the event, which carries the Lambda context.
    """

    def handler(event: CloudWatchEvent) -> dict[str, Any]:
        return invoke_job(name, event.context)

    handler.__name__ = handler.__qualname__ = name
    return jobs.schedule(schedule.rate, name=name)(handler)


# Lambda imports this module and looks each handler up by name, so every one is a module attribute.
JOB_HANDLERS: dict[str, Callable[[Any, Any], dict[str, Any]]] = {
    name: _register(name, schedule) for name, schedule in SCHEDULED_FUNCTIONS.items()
}
globals().update(JOB_HANDLERS)
