"""Operator command line: ``init``, ``invoke <function> '<json>'``, ``run-job <function>``.

    python -m chalicelib.cli init
    python -m chalicelib.cli invoke admin_create_tenant '{"name": "Acme", "default_region": "IN"}'
    python -m chalicelib.cli invoke --remote --stage prod admin_policy_status '{"policy_id": "..."}'
    python -m chalicelib.cli run-job purge_expired

``--remote`` calls the deployed Lambda through boto3 (``leadvault-<stage>-<function>``) with the
caller's AWS credentials; without it the function runs here against the configured endpoint.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def _print(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True, default=str))


def cmd_init(_args: argparse.Namespace) -> int:
    from chalicelib.store.schema import create_tables

    _print({"tables": create_tables()})
    return 0


def cmd_reindex_origins(_args: argparse.Namespace) -> int:
    from chalicelib import invocation
    from chalicelib.services.access.api_keys import reindex_origins

    with invocation.invocation():
        _print({"widget_keys_indexed": reindex_origins()})
    return 0


def cmd_invoke(args: argparse.Namespace) -> int:
    from chalicelib.admin import OPERATOR_FUNCTIONS, invoke_operator
    from chalicelib.runtime import LocalContext

    if args.function not in OPERATOR_FUNCTIONS:
        _print({"error": {"code": "unknown_function", "message": f"choose one of {sorted(OPERATOR_FUNCTIONS)}"}})
        return 2
    if args.remote:
        result = _invoke_remote(f"leadvault-{args.stage}-{args.function}", args.payload)
    else:
        result = invoke_operator(args.function, args.payload, LocalContext(args.function))
    _print(result)
    return 1 if isinstance(result, dict) and "error" in result else 0


def _invoke_remote(function_name: str, payload: str) -> Any:
    import boto3

    answer = boto3.client("lambda").invoke(FunctionName=function_name, Payload=payload.encode())
    return json.loads(answer["Payload"].read() or b"null")


def cmd_run_job(args: argparse.Namespace) -> int:
    from chalicelib.jobs import SCHEDULED_FUNCTIONS, invoke_job
    from chalicelib.runtime import LocalContext

    if args.function not in SCHEDULED_FUNCTIONS:
        known = sorted(SCHEDULED_FUNCTIONS) or ["(none yet)"]
        _print({"error": {"code": "unknown_function", "message": f"choose one of {known}"}})
        return 2
    result = invoke_job(args.function, LocalContext(args.function, timeout_s=args.timeout))
    _print(result)
    return 1 if "error" in result else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.cli", description="LeadVault operator CLI")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("init", help="create every table (idempotent)").set_defaults(run=cmd_init)
    commands.add_parser("reindex-origins", help="index live widget keys' origins for CORS (idempotent)").set_defaults(
        run=cmd_reindex_origins)
    invoke = commands.add_parser("invoke", help="run an operator function and print its JSON")
    invoke.add_argument("function")
    invoke.add_argument("payload", nargs="?", default="{}")
    invoke.add_argument("--remote", action="store_true", help="invoke the deployed Lambda through boto3")
    invoke.add_argument("--stage", default="dev", help="stage of the deployed Lambda (with --remote)")
    invoke.set_defaults(run=cmd_invoke)
    job = commands.add_parser("run-job", help="run one scheduled function once")
    job.add_argument("function")
    job.add_argument("--timeout", type=float, default=900.0, help="seconds the run may take (as Lambda's)")
    job.set_defaults(run=cmd_run_job)
    return parser


def main(argv: list[str] | None = None) -> int:
    from chalicelib.logs import send_logs_to_stderr

    send_logs_to_stderr()
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
