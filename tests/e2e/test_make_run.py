"""`make run` as a person or a tool runs it: options through ARGS, the CLI line it prints, and a signal to make
alone stopping everything (make does not pass SIGINT on to its children)."""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devtools.dynamodb_local import PROJECT_DIR, free_port

pytestmark = pytest.mark.e2e

CLI_LINE = "Operator CLI (python -m chalicelib.cli), in another shell, first: "


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start_make_run(data_dir: Path, port: int, ddb_port: int) -> tuple[subprocess.Popen[str], list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEADVAULT_", "DYNAMODB_", "MAKE"))}
    make = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"ARGS=--port {port} --ddb-port {ddb_port} --data-dir {data_dir}"],
        cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert make.stdout is not None
    output: list[str] = []
    deadline = time.monotonic() + 240  # `make run` checks its dependencies first
    while time.monotonic() < deadline:
        line = make.stdout.readline()
        if not line and make.poll() is not None:
            break
        output.append(line)
        if line.startswith("Serving on"):
            return make, output
    make.kill()
    raise AssertionError("make run did not start:\n" + "".join(output))


def cli_with_printed_exports(output: list[str], *argv: str) -> dict:
    """The operator CLI in a fresh shell that ran only the export line `make run` printed."""
    line = next(line for line in output if line.startswith(CLI_LINE))[len(CLI_LINE):].strip()
    words = shlex.split(line)
    assert words[0] == "export"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEADVAULT_", "DYNAMODB_"))}
    env.update(word.split("=", 1) for word in words[1:])
    done = subprocess.run([sys.executable, "-m", "chalicelib.cli", *argv], cwd=PROJECT_DIR, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    return json.loads(done.stdout)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_make_run_takes_options_prints_the_cli_line_and_stops_on_a_signal_to_make_alone(tmp_path, signum):
    port, ddb_port = free_port(), free_port()
    make, output = start_make_run(tmp_path / "data", port, ddb_port)
    try:
        assert f"http://127.0.0.1:{port}" in "".join(output) and listening(ddb_port)
        if signum == signal.SIGINT:  # once is enough: the printed line reaches this run's tables and master key
            demo = json.loads((tmp_path / "data" / "demo-tenant.json").read_text())
            answer = cli_with_printed_exports(output, "invoke", "admin_issue_api_key",
                                              json.dumps({"tenant_id": demo["tenant_id"], "role": "admin"}))
            assert answer["api_key"].startswith(f"lv.{demo['tenant_id']}.")
        make.send_signal(signum)  # to make only, not to its process group
        assert make.wait(timeout=90) != 0
    finally:
        if make.poll() is None:
            make.kill()
    assert make.stdout is not None
    rest = make.stdout.read()
    assert "Stopping." in rest
    assert not listening(port) and not listening(ddb_port)
