"""``make bench``: every benchmark, one JSON line per figure, and nothing else on stdout.

Each benchmark runs in a process of its own (``python -m bench <name>`` runs one): they set the environment,
start DynamoDB Local or moto, and bind the models' class-level connections to their own tables, and
none of that may reach the next one. (In one process the notice figures, on moto, once failed after the
DynamoDB Local ones: see ``tests/unit/test_bench_output.py``.) A failed benchmark does not stop the
others; the exit status says whether all of them ran.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

BENCHES = ("cold_import", "ddb_costs", "erasure_costs", "purge_costs", "webhook_delivery", "notice_costs")


def run_one(name: str) -> None:
    """One benchmark in this process, its logs quiet."""
    # moto hooks every botocore session made after it is imported: before any session exists.
    import moto  # noqa: F401

    from bench.report import quiet_logs

    quiet_logs()
    importlib.import_module(f"bench.{name}").run()


def run_all(names: tuple[str, ...] = BENCHES) -> int:
    failed = [name for name in names
              if subprocess.run([sys.executable, "-m", "bench", name], check=False).returncode != 0]
    if failed:
        print(f"make bench: failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    if not argv:
        return run_all()
    unknown = [name for name in argv if name not in BENCHES]
    if unknown:
        print(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHES)}", file=sys.stderr)
        return 2
    if len(argv) > 1:
        return run_all(tuple(argv))
    run_one(argv[0])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
