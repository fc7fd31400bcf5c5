"""Settings read at call time, the clock override, and the local scheduler."""

from __future__ import annotations

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
    monkeypatch.setenv("LEADVAULT_NOW", "2001-01-02T03:04:05Z")
    assert clock.now() == datetime(2001, 1, 2, 3, 4, 5, tzinfo=UTC)
    monkeypatch.setenv("LEADVAULT_STAGE", "dev")
    monkeypatch.setenv("LEADVAULT_KMS_KEY_ID", "alias/x")
    assert clock.now().year > 2001


def test_local_scheduler_fires_each_job_on_its_rate():
    fired: list[str] = []
    now = [0.0]  # the scheduler's clock, moved by the test: no real time passes
    schedules = {"fast": Schedule(1, "x:y"), "slow": Schedule(60, "x:y")}
    scheduler = LocalScheduler(schedules, fired.append, scale=0.001, monotonic=lambda: now[0])  # fast: every 0.06 s
    for step in range(1, 51):  # 0.5 s in ticks of 0.01 s
        now[0] = step * 0.01
        scheduler.tick()
    assert fired.count("fast") == 8  # due at 0.06, 0.12, ... 0.48
    assert fired.count("slow") == 0
    now[0] = 3.6
    scheduler.tick()
    assert fired.count("slow") == 1 and fired.count("fast") == 9
