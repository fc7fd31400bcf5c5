"""Operator command line: ``init``, ``invoke <function> '<json>'``, ``run-job <function>``.

    python -m chalicelib.cli init
    python -m chalicelib.cli invoke admin_create_tenant '{"name": "Acme", "default_region": "IN"}'
    python -m chalicelib.cli invoke --remote --stage prod admin_policy_status '{"policy_id": "..."}'
    python -m chalicelib.cli run-job purge_expired

``--remote`` calls the deployed Lambda through boto3 (``leadvault-<stage>-<function>``) with the
caller's AWS credentials; without it the function runs here against the configured endpoint: on the
``local`` stage (the default) with no ``DYNAMODB_ENDPOINT_URL``, the one ``make run`` serves by default.
An endpoint that does not answer is said at once (exit status 2), naming it and what to do.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
from typing import Any
from urllib.parse import urlsplit

UNREACHABLE_EXIT = 2
CONNECT_TIMEOUT_S = 2.0


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


def cmd_reindex_leads(_args: argparse.Namespace) -> int:
    from chalicelib import invocation
    from chalicelib.services.leads.reindex import reindex_activity

    with invocation.invocation():
        _print({"leads_indexed": reindex_activity()})
    return 0


def cmd_reindex(_args: argparse.Namespace) -> int:
    from chalicelib import invocation
    from chalicelib.services.reindex import reindex_all

    with invocation.invocation():
        _print(reindex_all())
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


def unreachable_endpoint() -> dict[str, Any] | None:
    """The error to print when the configured DynamoDB endpoint does not accept a connection, else None.

    Without this, every call would be retried for seconds and end as an ``internal_error``.
    AWS itself (no endpoint set) is not probed: its failures say what they are.
    """
    from chalicelib.config import get_settings

    settings = get_settings()
    endpoint = settings.dynamodb_endpoint_url
    if not endpoint:
        return None
    parts = urlsplit(endpoint)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        with socket.create_connection((parts.hostname or "", port), timeout=CONNECT_TIMEOUT_S):
            return None
    except (OSError, ValueError):
        return unreachable_error(endpoint, settings.stage)


def unreachable_error(endpoint: str, stage: str) -> dict[str, Any]:
    return {"error": {"code": "dynamodb_unreachable", "message": (
        f"Could not connect to DynamoDB at {endpoint} (stage {stage}). Start the local run first (`make run`; "
        "with other ports or another data directory, run the `export ...` line it prints in this shell), or set "
        "DYNAMODB_ENDPOINT_URL to an endpoint that is up. Against AWS, set LEADVAULT_STAGE and no endpoint; "
        "a deployed stage's functions are run with `invoke --remote`.")}}


def _connection_failure(exc: BaseException) -> bool:
    """Whether a failure comes from not reaching the endpoint (botocore's error may be wrapped by PynamoDB)."""
    from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (EndpointConnectionError, ConnectTimeoutError)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.cli", description="LeadVault operator CLI")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("init", help="create every table (idempotent)").set_defaults(run=cmd_init)
    commands.add_parser("reindex-origins", help="index live widget keys' origins for CORS (idempotent)").set_defaults(
        run=cmd_reindex_origins)
    commands.add_parser("reindex-leads", help="put leads written before the activity lists in them (idempotent)"
                        ).set_defaults(run=cmd_reindex_leads)
    commands.add_parser("reindex", help="fill in what this release's new indexes need on items written before "
                        "(leads' activity lists, privacy requests' tenant lists; idempotent)").set_defaults(
        run=cmd_reindex)
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
    if not getattr(args, "remote", False):
        error = unreachable_endpoint()
        if error is not None:
            _print(error)
            return UNREACHABLE_EXIT
    try:
        return int(args.run(args))
    except Exception as exc:
        if not _connection_failure(exc):
            raise
        from chalicelib.config import get_settings

        settings = get_settings()
        _print(unreachable_error(settings.dynamodb_endpoint_url or "AWS", settings.stage))
        return UNREACHABLE_EXIT


if __name__ == "__main__":
    sys.exit(main())
