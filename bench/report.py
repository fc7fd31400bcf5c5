"""One JSON line per figure, so results can be diffed and collected by tools."""

from __future__ import annotations

import json
import logging
import os
from typing import Any

BENCH_LOG_LEVEL = "WARNING"


def figure(name: str, value: float | int, **context: Any) -> None:
    print(json.dumps({"figure": name, "value": value, **context}, sort_keys=True), flush=True)


def quiet_logs() -> None:
    """Only figures on stdout: the app logs a JSON line per request and job (thousands in a bench run), which
    would bury them. Warnings and errors still show. The app's own default level is left as it is."""
    os.environ["LEADVAULT_LOG_LEVEL"] = BENCH_LOG_LEVEL
    from chalicelib.logs import get_logger

    # Built once per process (and a chalice.test Client sets the stage's INFO while it is open): set it here.
    get_logger().setLevel(logging.getLevelName(BENCH_LOG_LEVEL))
