"""Running operator and scheduled functions the same way from Lambda, the CLI and the local runner."""

from __future__ import annotations

import importlib
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from chalicelib import invocation
from chalicelib.errors import InternalError, LeadVaultError, ValidationFailed
from chalicelib.logs import get_logger, log_exception


class LocalContext:
    """The part of Lambda's context our functions use, for runs outside Lambda."""

    def __init__(self, function_name: str, timeout_s: float = 900.0) -> None:
        self.function_name = function_name
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def resolve(target: str) -> Callable[..., Any]:
    """Import ``"package.module:function"`` on first use, keeping cold imports small."""
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def payload_of(event: Any) -> Any:
    """Operator payloads arrive as a JSON object, or as a JSON string of one (console tests)."""
    if isinstance(event, (str, bytes)):
        try:
            return json.loads(event)
        except ValueError:
            raise ValidationFailed("The payload is not valid JSON.") from None
    return event


def run_operator(name: str, target: str, event: Any, context: Any) -> dict[str, Any]:
    """Run one operator function: its answer, or ``{"error": ...}``, never a traceback."""
    with invocation.invocation():
        try:
            result = resolve(target)(payload_of(event))
            outcome = "ok"
        except LeadVaultError as error:
            result, outcome = error.to_body(), error.code
        except Exception as exc:  # noqa: BLE001 - operators get the contract's error, logs the type
            log_exception("operator_error", exc, function=name)
            result, outcome = InternalError().to_body(), "internal_error"
        get_logger().info("operator_function", extra={"function": name, "outcome": outcome,
                                                      "request_id": getattr(context, "aws_request_id", None)})
        return result


def run_job(name: str, target: str, context: Any) -> dict[str, Any]:
    """Run one scheduled function with the context's deadline; failures are logged, not raised."""
    with invocation.invocation():
        try:
            result = resolve(target)(context)
        except Exception as exc:  # noqa: BLE001 - the next tick retries; the log says where
            log_exception("job_error", exc, job=name)
            return {"error": InternalError().to_body()["error"]}
        get_logger().info("scheduled_function", extra={"job": name, "result": result})
        return result


def run_records(name: str, target: str, records: list[dict[str, Any]], context: Any) -> dict[str, Any]:
    """Run one stream-triggered function on a batch of records. Its answer names the records to read
    again (``batchItemFailures``); an exception fails the whole batch, which Lambda then retries."""
    with invocation.invocation():
        result = resolve(target)(records, context)
        get_logger().info("stream_function", extra={"function": name, "records": len(records),
                                                    "retry": len(result.get("batchItemFailures", []))})
        return result


# A job's check whether it may start one more step before its Lambda's time runs out.
HasTime = Callable[[], bool]


def time_left(context: Any, safety_ms: int) -> HasTime:
    """A check that says whether more than ``safety_ms`` of the Lambda's time remains."""
    return lambda: int(context.get_remaining_time_in_millis()) > safety_ms
