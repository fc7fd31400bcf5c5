"""``make bench`` prints figures only: the app's INFO lines are silenced there, and only there."""

from __future__ import annotations

import json

from bench.report import figure, quiet_logs
from chalicelib.logs import get_logger


def test_quiet_logs_leaves_only_figures_and_warnings(monkeypatch, capsys):
    logger = get_logger()
    level = logger.log_level
    monkeypatch.setenv("LEADVAULT_LOG_LEVEL", "INFO")  # what a chalice.test Client sets for the test stage
    try:
        logger.info("request", extra={"route": "/v1/leads"})
        assert "request" in capsys.readouterr().out  # the app's default: INFO lines on stdout
        quiet_logs()
        logger.info("request", extra={"route": "/v1/leads"})
        figure("ddb_calls", 3, operation="new_lead")
        logger.warning("slow")
        lines = capsys.readouterr().out.splitlines()
        assert [json.loads(line).get("figure") for line in lines] == ["ddb_calls", None]
        assert json.loads(lines[1])["message"] == "slow"
    finally:
        logger.setLevel(level)



def test_each_benchmark_runs_in_a_process_of_its_own_and_a_failure_is_said(monkeypatch, capsys):
    # In one process, state one benchmark left (environment, moto's hook, the models' class-level connections
    # bound to a stopped DynamoDB Local) broke the next: the notice figures failed only after the others.
    import subprocess
    import sys

    from bench import __main__ as bench_main

    commands = []

    def fake_run(command, check):
        commands.append(command)
        return subprocess.CompletedProcess(command, 1 if command[-1] == "purge_costs" else 0)

    monkeypatch.setattr(subprocess, "run", fake_run)
    assert bench_main.main([]) == 1
    assert commands == [[sys.executable, "-m", "bench", name] for name in bench_main.BENCHES]
    assert "failed: purge_costs" in capsys.readouterr().err
    assert bench_main.main(["no_such_bench"]) == 2
