"""Cold import of the app against the bare SDK it stands on, measured in the same run."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from bench.report import figure
from devtools.dynamodb_local import PROJECT_DIR

APP = "import app"
SDK = "import boto3, pynamodb.models, chalice"
# The app imports its heavy parts lazily; this adds what the first authenticated request loads.
APP_WITH_REQUEST_PATH = (
    "import app, chalicelib.services.access.auth, chalicelib.api.jsonbody, chalicelib.logs as l; l.get_logger()"
)


def wall_time(statement: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", statement], cwd=PROJECT_DIR, check=True)
    return time.perf_counter() - started


def compare(name: str, statement: str, rounds: int) -> None:
    wall_time(statement), wall_time(SDK)  # warm the file cache for both
    app_times, sdk_times = [], []
    for _ in range(rounds):  # alternate, so drift in machine speed hits both alike
        app_times.append(wall_time(statement))
        sdk_times.append(wall_time(SDK))
    app_median, sdk_median = statistics.median(app_times), statistics.median(sdk_times)
    figure(name, round(app_median / sdk_median, 3), target_max=1.3, app_median_s=round(app_median, 4),
           sdk_median_s=round(sdk_median, 4), rounds=rounds, statement=statement)


def run(rounds: int = 15) -> None:
    compare("cold_import_ratio", APP, rounds)
    compare("cold_import_ratio_with_request_path", APP_WITH_REQUEST_PATH, rounds)
