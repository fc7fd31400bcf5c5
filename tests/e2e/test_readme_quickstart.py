"""The README's curl quick-start, run as written against a real local run, so it cannot go stale."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from devtools.dynamodb_local import PROJECT_DIR
from tests.e2e.local_run import LocalRun

pytestmark = pytest.mark.e2e

SECTION = "### Quick start with curl"


def quickstart_blocks(readme: str) -> list[str]:
    """The ``sh`` blocks of the quick-start section, in order."""
    start = readme.index(SECTION)
    end = readme.find("\n## ", start)
    section = readme[start:end if end != -1 else None]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)


def for_this_run(script: str, run: LocalRun) -> str:
    """The two lines a reader changes for another address or data directory, set to this run's."""
    script, addresses = re.subn(r"^API=\S+$", f"API={run.base_url}", script, flags=re.MULTILINE)
    script, data_dirs = re.subn(r"^DATA=\S+$", f"DATA={run.data_dir}", script, flags=re.MULTILINE)
    assert (addresses, data_dirs) == (1, 1), "the quick-start starts with API=... and DATA=..."
    return script


def test_the_quickstart_blocks_are_found():
    blocks = quickstart_blocks((PROJECT_DIR / "README.md").read_text())
    assert len(blocks) >= 4
    assert any("/v1/leads" in block and "Origin:" in block for block in blocks)


def test_the_readme_quickstart_runs_as_written(tmp_path: Path):
    blocks = quickstart_blocks((PROJECT_DIR / "README.md").read_text())
    run = LocalRun(tmp_path / "data").start(timeout_s=180)  # a busy machine starts slowly
    try:
        script = "set -euo pipefail\n" + for_this_run("\n".join(blocks), run)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LEADVAULT_", "DYNAMODB_"))}
        done = subprocess.run(["bash", "-c", script], cwd=PROJECT_DIR, env=env, capture_output=True, text=True,
                              timeout=120, check=False)
        assert done.returncode == 0, (done.stdout, done.stderr)
        lines = [line for line in done.stdout.splitlines() if line.strip()]
        answers = [json.loads(line) for line in lines if line.startswith("{")]
        assert answers[0] == {"status": "ok"}
        created = answers[1]
        assert created["status"] == "created" and created["lead_id"].startswith("led_")
        listed = answers[2]
        assert [lead["lead_id"] for lead in listed["items"]] == [created["lead_id"]]
        assert any(line.startswith("LeadVault 3.1") and line.endswith("paths") for line in lines)
        assert answers[3]["status"] == "verified"
        assert answers[4]["type"] == "access" and answers[4]["status"] in ("verified", "in_progress", "completed")
        # The keys the quick-start used came from the file the first run wrote, readable by this user only.
        assert (run.data_dir / "demo-keys.env").stat().st_mode & 0o777 == 0o600
    finally:
        run.stop()
