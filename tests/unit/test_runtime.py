"""Settings read at call time, the clock override, and the local scheduler."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from chalicelib import clock
from chalicelib.config import ConfigError, get_settings
from chalicelib.jobs import Schedule
from devtools.scheduler import LocalScheduler


def test_settings_follow_the_environment_of_the_call(monkeypatch):
    monkeypatch.setenv("LEADVAULT_TABLE_PREFIX", "first-")
    assert get_settings().table_prefix == "first-"
    monkeypatch.setenv("LEADVAULT_TABLE_PREFIX", "second-")
    assert get_settings().table_prefix == "second-"


def test_importing_the_app_reads_no_configuration(monkeypatch):
    import importlib
    import sys

    monkeypatch.setenv("LEADVAULT_EMAIL_BACKEND", "carrier-pigeon")  # invalid: reading it would raise
    for name in [m for m in sys.modules if m == "app" or m.startswith("chalicelib")]:
        monkeypatch.delitem(sys.modules, name)
    importlib.import_module("app")
    with pytest.raises(ConfigError):
        get_settings()


def test_leadvault_now_moves_the_clock_on_local_and_test_only(monkeypatch):
    monkeypatch.setenv("LEADVAULT_NOW", "2030-01-02T03:04:05Z")
    assert clock.now() == datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    monkeypatch.setenv("LEADVAULT_STAGE", "dev")
    monkeypatch.setenv("LEADVAULT_KMS_KEY_ID", "alias/x")
    assert clock.now().year != 2030


def test_local_scheduler_fires_each_job_on_its_rate():
    fired: list[str] = []
    lock = threading.Lock()

    def run(name: str) -> None:
        with lock:
            fired.append(name)

    schedules = {"fast": Schedule(1, "x:y"), "slow": Schedule(60, "x:y")}
    scheduler = LocalScheduler(schedules, run, scale=0.001, tick_s=0.01)  # fast: every 0.06 s
    scheduler.start()
    time.sleep(0.5)
    scheduler.stop()
    scheduler.join(timeout=2)
    assert 3 <= fired.count("fast") <= 9
    assert fired.count("slow") == 0
