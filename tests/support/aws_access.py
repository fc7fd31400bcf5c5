"""What each deployed function asks of AWS, recorded while tests run, as IAM (action, resource) pairs.

Tests run on moto, DynamoDB Local, a local master key file and an outbox; in the cloud the same code
paths call DynamoDB, KMS, SES and SNS under one Lambda function's role. The recorder attributes every
call to the function whose code made it (from the call stack), and turns it into the IAM action and
resource the cloud would authorise, so a test can hold it against that function's policy.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/leadvault-master-key"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/"

_RUNTIME_FRAMES = {"run_operator", "run_job", "run_records"}


@dataclass(frozen=True)
class Request:
    """One authorisation question: may ``function`` do ``action`` on ``resource`` (with this context)?"""

    function: str
    action: str
    resource: str
    context: tuple[tuple[str, str], ...] = ()


@dataclass
class Recorder:
    """Collects requests; ``table_prefix`` of the test run becomes ``deployed_prefix`` in ARNs."""

    table_prefix: str
    deployed_prefix: str
    requests: list[Request] = field(default_factory=list)

    def add(self, action: str, resource: str, context: dict[str, str] | None = None) -> None:
        function = current_function()
        if function is not None:
            self.requests.append(Request(function, action, resource, tuple(sorted((context or {}).items()))))

    def table(self, name: str, index: str | None = None) -> str:
        suffix = name.removeprefix(self.table_prefix)
        arn = TABLE_ARN + self.deployed_prefix + suffix
        return f"{arn}/index/{index}" if index else arn

    def api_call(self, service: str, operation: str, params: dict[str, Any]) -> None:
        for action, resource, context in _iam_requests(self, service, operation, params):
            self.add(action, resource, context)


def current_function() -> str | None:
    """The deployed function running this code: an operator or scheduled function, or the API handler."""
    frame = sys._getframe(1)
    api = False
    while frame is not None:
        code = frame.f_code
        if code.co_name in _RUNTIME_FRAMES and code.co_filename.endswith("runtime.py"):
            return str(frame.f_locals.get("name"))
        if code.co_name == "__call__" and code.co_filename.endswith("application.py"):
            api = True
        frame = frame.f_back
    return "api_handler" if api else None


def _iam_requests(rec: Recorder, service: str, operation: str, params: dict[str, Any]) -> Iterator[tuple]:
    if service == "dynamodb":
        yield from _dynamodb_requests(rec, operation, params)
    elif service == "kms":
        yield f"kms:{operation}", KEY_ARN, params.get("EncryptionContext") or {}
    elif service == "ses":
        yield f"ses:{operation}", f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/sender", None
    else:
        yield f"{service}:{operation}", "*", None


_TRANSACT = {"ConditionCheck": "ConditionCheckItem", "Put": "PutItem", "Update": "UpdateItem",
             "Delete": "DeleteItem", "Get": "GetItem"}
_PARTIQL = re.compile(r'^\s*(?:(UPDATE)|(SELECT)\b.*?\bFROM|(DELETE)\s+FROM|(INSERT)\s+INTO)\s+"([^"]+)"', re.I | re.S)


def _dynamodb_requests(rec: Recorder, operation: str, params: dict[str, Any]) -> Iterator[tuple]:
    if operation in ("BatchGetItem", "BatchWriteItem"):
        for table in params.get("RequestItems", {}):
            yield f"dynamodb:{operation}", rec.table(table), None
    elif operation in ("TransactWriteItems", "TransactGetItems"):
        for item in params.get("TransactItems", []):
            for kind, request in item.items():
                yield f"dynamodb:{_TRANSACT[kind]}", rec.table(request["TableName"]), None
    elif operation in ("BatchExecuteStatement", "ExecuteStatement", "ExecuteTransaction"):
        statements = params.get("Statements") or params.get("TransactStatements") or [params]
        for statement in statements:
            match = _PARTIQL.match(statement["Statement"])
            verb = next((group for group in match.groups()[:4] if group), "") if match else "Unknown"
            table = match.group(5) if match else "?"
            yield f"dynamodb:PartiQL{verb.capitalize()}", rec.table(table), None
    elif "TableName" in params:
        yield f"dynamodb:{operation}", rec.table(params["TableName"], params.get("IndexName")), None
    else:
        yield f"dynamodb:{operation}", "*", None


@contextmanager
def recording(table_prefix: str, deployed_prefix: str) -> Iterator[Recorder]:
    """Record every AWS call, master-key use and message of the deployed functions while inside."""
    import botocore.client

    from chalicelib.notify import messages
    from chalicelib.vault import master

    rec = Recorder(table_prefix, deployed_prefix)
    make_api_call = botocore.client.BaseClient._make_api_call
    send = messages._send
    generate, unwrap = master.FileMasterKey.generate, master.FileMasterKey.unwrap

    def recorded_api_call(client: Any, operation: str, params: dict[str, Any]) -> Any:
        rec.api_call(client.meta.service_model.service_name, operation, params)
        return make_api_call(client, operation, params)

    def recorded_send(message: Any) -> str:
        if message.channel == "email":
            rec.add("ses:SendRawEmail", f"arn:aws:ses:{REGION}:{ACCOUNT}:identity/sender")
        else:
            rec.add("sns:Publish", "*")
        return send(message)

    def recorded_generate(key: Any, context: dict[str, str]) -> tuple[bytes, bytes]:
        rec.add("kms:GenerateDataKey", KEY_ARN, context)
        return generate(key, context)

    def recorded_unwrap(key: Any, wrapped: bytes, context: dict[str, str]) -> bytes:
        rec.add("kms:Decrypt", KEY_ARN, context)
        return unwrap(key, wrapped, context)

    botocore.client.BaseClient._make_api_call = recorded_api_call  # type: ignore[method-assign]
    messages._send = recorded_send
    master.FileMasterKey.generate = recorded_generate  # type: ignore[method-assign]
    master.FileMasterKey.unwrap = recorded_unwrap  # type: ignore[method-assign]
    try:
        yield rec
    finally:
        botocore.client.BaseClient._make_api_call = make_api_call  # type: ignore[method-assign]
        messages._send = send
        master.FileMasterKey.generate, master.FileMasterKey.unwrap = generate, unwrap  # type: ignore[method-assign]
