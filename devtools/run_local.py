"""``make run``: DynamoDB Local on disk, tables, a demo tenant, the API on :8000, schedules firing.

Ctrl-C (or SIGTERM) stops the server, the scheduler and DynamoDB Local. Data stays under the
data directory, so the next run finds what the last one stored.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from devtools.dynamodb_local import PROJECT_DIR, DynamoDBLocal, SetupError

DEMO_FILE = "demo-tenant.json"
DEMO_KEYS_FILE = "demo-keys.env"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.run_local",
        description="Run LeadVault locally: DynamoDB Local on disk, the tables, a demo tenant, the API and its "
                    "schedules. Ctrl-C (or SIGTERM) stops everything; the data stays for the next run. "
                    "Through make: make run ARGS=\"--port 8010 --ddb-port 8011\".",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1", help="address the API listens on")
    parser.add_argument("--port", type=int, default=8000, help="port of the API")
    parser.add_argument("--ddb-port", type=int, default=int(os.environ.get("LEADVAULT_DDB_PORT", "8001")),
                        help="port of DynamoDB Local (environment: LEADVAULT_DDB_PORT)")
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("LEADVAULT_DATA_DIR", ".data")),
                        help="where the tables, the local master key, the outbox and the demo keys are kept "
                             "(environment: LEADVAULT_DATA_DIR)")
    parser.add_argument("--schedule-scale", type=float, default=1.0,
                        help="multiply every schedule's interval (0.01 fires an hourly job every 36 s)")
    return parser


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def cli_exports(data_dir: Path, ddb_endpoint: str, public_url: str) -> str:
    """The line an operator runs in another shell so ``python -m chalicelib.cli`` reaches this run."""
    values = {"LEADVAULT_STAGE": "local", "DYNAMODB_ENDPOINT_URL": ddb_endpoint,
              "LEADVAULT_DATA_DIR": str(data_dir), "LEADVAULT_PUBLIC_URL": public_url}
    return "export " + " ".join(f"{name}={shlex.quote(value)}" for name, value in values.items())


def local_environment(data_dir: Path, ddb_endpoint: str, public_url: str) -> dict[str, str]:
    """The local stage's settings, pointing at this run's DynamoDB Local, data directory and address."""
    return {
        "LEADVAULT_STAGE": "local",
        "DYNAMODB_ENDPOINT_URL": ddb_endpoint,
        "LEADVAULT_DATA_DIR": str(data_dir),
        "LEADVAULT_MASTER_KEY_FILE": str(data_dir / "master.key"),
        "LEADVAULT_OUTBOX_DIR": str(data_dir / "outbox"),
        "LEADVAULT_EMAIL_BACKEND": os.environ.get("LEADVAULT_EMAIL_BACKEND", "outbox"),
        "LEADVAULT_PUBLIC_URL": os.environ.get("LEADVAULT_PUBLIC_URL", public_url),
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    }


def configure_environment(data_dir: Path, ddb_endpoint: str, public_url: str) -> None:
    os.environ.update(local_environment(data_dir, ddb_endpoint, public_url))


def reindex_demo_origins() -> None:
    """Data of a run older than the CORS origin index gets its widget keys indexed (idempotent)."""
    from chalicelib import invocation
    from chalicelib.services.access.api_keys import reindex_origins

    with invocation.invocation():
        reindex_origins()


def reindex_after(report: dict[str, str]) -> str | None:
    """Data of a run older than some of the tables' indexes gets the keys those indexes need; the line saying
    what was filled in (counts only), or None when no index was added."""
    from chalicelib import invocation
    from chalicelib.services.reindex import reindex_all
    from chalicelib.store.schema import indexes_were_added

    if not indexes_were_added(report):
        return None
    with invocation.invocation():
        counts = reindex_all()
    return "Reindexed data from before the new indexes: " + ", ".join(
        f"{count} {name.replace('_', ' ')}" for name, count in counts.items())


def ensure_demo_tenant(data_dir: Path, port: int) -> dict[str, Any]:
    """Create the demo tenant, its keys and a demo policy once; later runs only say where it is."""
    from chalicelib import invocation
    from chalicelib.services.access import api_keys
    from chalicelib.services.policies import publishing
    from chalicelib.services.tenants import setup

    marker = data_dir / DEMO_FILE
    if marker.exists():
        demo = json.loads(marker.read_text())
        print(f"Demo tenant {demo['tenant_id']} exists; its keys were printed on the first run and are in "
              f"{data_dir / DEMO_KEYS_FILE} (issue more with `python -m chalicelib.cli invoke admin_issue_api_key`).")
        return demo
    with invocation.invocation():
        tenant_id = setup.create_tenant(
            {"name": "Demo Co", "default_region": "IN", "own_numbers": ["+91 80 4000 0000"],
             "grievance_officer": {"name": "Demo Grievance Officer", "email": "grievances@demo.example"}}
        )["tenant_id"]
        publishing.publish_policy({"scope": "tenant", "tenant_id": tenant_id, "version": "demo-1",
                                 "url": "https://example.com/privacy", "summary": "The demo tenant's policy.",
                                 "effective_at": "2026-01-01T00:00:00Z"})
        keys = {
            "widget": api_keys.issue_key({"tenant_id": tenant_id, "role": "widget",
                                          "allowed_origins": [f"http://localhost:{port}", f"http://127.0.0.1:{port}"]}),
            "agent": api_keys.issue_key({"tenant_id": tenant_id, "role": "agent", "agent_id": "demo-agent"}),
            "admin": api_keys.issue_key({"tenant_id": tenant_id, "role": "admin"}),
        }
    marker.write_text(json.dumps({"tenant_id": tenant_id, "key_ids": {r: k["key_id"] for r, k in keys.items()}}))
    write_demo_keys(data_dir / DEMO_KEYS_FILE, tenant_id, {role: key["api_key"] for role, key in keys.items()})
    print(f"Demo tenant {tenant_id} created. Its API keys, shown this once (and kept for this machine's shell "
          f"in {data_dir / DEMO_KEYS_FILE}):")
    for role, key in keys.items():
        print(f"  {role:<6} {key['api_key']}")
    return {"tenant_id": tenant_id}


def write_demo_keys(path: Path, tenant_id: str, keys: dict[str, str]) -> None:
    """The demo keys as shell variables (``. .data/demo-keys.env``), readable by this user only.

    The service keeps only hashes of keys; this file exists for the local demo tenant alone, so the
    README's quick-start can be pasted as it is.
    """
    lines = ["# The local demo tenant's API keys (make run; never used outside this machine)",
             f"LEADVAULT_DEMO_TENANT={shlex.quote(tenant_id)}",
             *(f"{role.upper()}_KEY={shlex.quote(key)}" for role, key in keys.items())]
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir = args.data_dir.resolve()
    ddb = DynamoDBLocal(port=args.ddb_port, data_dir=data_dir / "dynamodb", die_with_parent=True)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        ddb.start()
    except SetupError as error:
        print(f"make run: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        ddb.stop()
        return 0
    scheduler = poller = None
    try:
        from devtools.parent_watch import stop_with_make

        stop_with_make()
        from devtools.local_server import create_server

        server, _app = create_server(PROJECT_DIR, args.host, args.port)
        configure_environment(data_dir, ddb.endpoint, f"http://{args.host}:{args.port}")
        from chalicelib.store.schema import create_tables

        report = create_tables()
        print(f"Tables: {json.dumps(report)}")
        reindexed = reindex_after(report)
        if reindexed:
            print(reindexed, flush=True)
        reindex_demo_origins()
        ensure_demo_tenant(data_dir, args.port)
        print(f"Privacy portal: http://{args.host}:{args.port}/v1/pages/privacy#key=<the widget key>", flush=True)
        scheduler = start_scheduler(args.schedule_scale)
        poller = start_stream_poller()
        print(f"DynamoDB Local on {ddb.endpoint} (data in {data_dir / 'dynamodb'})", flush=True)
        print("Operator CLI (python -m chalicelib.cli), in another shell, first: "
              + cli_exports(data_dir, ddb.endpoint, f"http://{args.host}:{args.port}"), flush=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        thread.join()
    except KeyboardInterrupt:
        print("\nStopping.", flush=True)
    finally:
        if poller is not None:
            poller.stop()
        if scheduler is not None:
            scheduler.stop()
        ddb.stop()
    return 0


def _stop_on_sigterm(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def start_scheduler(scale: float) -> Any:
    from chalicelib.jobs import SCHEDULED_FUNCTIONS, invoke_job
    from chalicelib.runtime import LocalContext
    from devtools.scheduler import LocalScheduler

    def fire(name: str) -> None:
        invoke_job(name, LocalContext(name, timeout_s=SCHEDULED_FUNCTIONS[name].every_minutes * 60.0))

    scheduler = LocalScheduler(SCHEDULED_FUNCTIONS, fire, scale=scale)
    scheduler.start()
    names = ", ".join(f"{n} every {s.every_minutes} min" for n, s in SCHEDULED_FUNCTIONS.items()) or "none yet"
    print(f"Schedules: {names}")
    return scheduler


def start_stream_poller() -> Any:
    """The events table's stream, read from DynamoDB Local and delivered by the deployed handler's code."""
    from devtools.stream_poller import PollerThread, events_poller

    poller = PollerThread(events_poller())
    poller.start()
    print("Stream: events delivered to webhooks from DynamoDB Local's stream (from TRIM_HORIZON)")
    return poller


if __name__ == "__main__":
    sys.exit(main())
