"""Structured JSON logging through Powertools, with a rule: no personal data, ever.

Only identifiers we mint (tenant, key, request, lead ids), route templates, statuses and error
class names are logged. Bodies, query strings, headers and exception messages never are.
"""

from __future__ import annotations

import logging
import sys
import traceback
from functools import lru_cache
from typing import Any

_STREAM = {"name": "stdout"}


def send_logs_to_stderr() -> None:
    """For command-line use: stdout carries the command's JSON answer, stderr the logs."""
    _STREAM["name"] = "stderr"


class _CurrentStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stdout`` is at emit time (Lambda's stdout, or a test's capture)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return getattr(sys, _STREAM["name"])

    @stream.setter
    def stream(self, _value: Any) -> None:
        return


@lru_cache(maxsize=1)
def get_logger() -> Any:
    """The service logger, built on first use so importing the app stays cheap."""
    from aws_lambda_powertools import Logger

    from chalicelib.config import get_settings

    return Logger(service="leadvault", level=get_settings().log_level, logger_handler=_CurrentStreamHandler())


def log_exception(event: str, exc: BaseException, **keys: Any) -> None:
    """Log where an unexpected error happened without its message, which may hold input."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = [f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}:{frame.name}" for frame in frames[-5:]]
    get_logger().error(event, extra={"error_type": type(exc).__name__, "where": where, **keys})
