"""Start the real local run (`make run`'s program) as a child process and talk to it over HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devtools.dynamodb_local import PROJECT_DIR, free_port


@dataclass
class LocalRun:
    data_dir: Path
    port: int = field(default_factory=free_port)
    ddb_port: int = field(default_factory=free_port)
    schedule_scale: float = 1.0
    process: subprocess.Popen[str] | None = None
    output: list[str] = field(default_factory=list)
    _drain: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 60.0) -> LocalRun:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LEADVAULT_", "DYNAMODB_"))}
        command = [sys.executable, "-m", "devtools.run_local", "--port", str(self.port),
                   "--ddb-port", str(self.ddb_port), "--data-dir", str(self.data_dir),
                   "--schedule-scale", str(self.schedule_scale)]
        self.process = subprocess.Popen(command, cwd=PROJECT_DIR, env=env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + timeout_s
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line and self.process.poll() is not None:
                raise RuntimeError("local run exited:\n" + "".join(self.output))
            self.output.append(line)
            if line.startswith("Serving on"):
                self._drain = threading.Thread(target=self._read_output, daemon=True)
                self._drain.start()
                self._wait_for_health(deadline)
                return self
        raise RuntimeError("local run did not start:\n" + "".join(self.output))

    def _read_output(self) -> None:
        """Keep reading what the run prints (a log line per request): a full pipe would stall the server."""
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)

    def _wait_for_health(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            try:
                if self.request("GET", "/v1/health")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)

    def keys(self) -> dict[str, str]:
        """The demo keys printed on the first run."""
        found = {}
        for line in self.output:
            parts = line.split()
            if len(parts) == 2 and parts[0] in ("widget", "agent", "admin") and parts[1].startswith("lv."):
                found[parts[0]] = parts[1]
        return found

    def request(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
                raw: bytes | None = None) -> tuple[int, Any]:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        request = urllib.request.Request(self.base_url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def invoke(self, function: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Run an operator function against this run's tables, as an operator would with the CLI."""
        from devtools.run_local import local_environment

        env = {k: v for k, v in os.environ.items() if not k.startswith(("LEADVAULT_", "DYNAMODB_"))}
        env.update(local_environment(self.data_dir.resolve(), f"http://127.0.0.1:{self.ddb_port}", self.base_url))
        done = subprocess.run([sys.executable, "-m", "chalicelib.cli", "invoke", function, json.dumps(payload)],
                              cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=60, check=False)
        return json.loads(done.stdout)

    def operator(self, function: str, payload: dict[str, Any]) -> dict[str, Any]:
        """``invoke``, for a test that needs the call to succeed."""
        answer = self.invoke(function, payload)
        assert "error" not in answer, answer
        return answer

    def outbox(self) -> str:
        """Every message the run sent (e-mail and SMS), as one text."""
        from tests.support.outbox import messages

        return "\n".join(message["text"] for message in messages(self.data_dir / "outbox"))

    def stop(self) -> str:
        """Ctrl-C, as a person would; returns everything the run printed."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:  # SIGINT is ignored in a shell's background jobs
                self.process.send_signal(signal.SIGTERM)
                self.process.wait(timeout=30)
        if self._drain is not None:
            self._drain.join(timeout=10)
        return "".join(self.output)
