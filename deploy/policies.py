"""IAM policy documents, one per function and stage, from the hand-written table in ``deploy.access``.

Resources are exact: the function's own log group, the stage's tables and indexes (through the
template's own table resources), the stage's master key. The documents use CloudFormation
intrinsics, so they are meant for ``chalice package`` (which inlines them into the template).
"""

from __future__ import annotations

from typing import Any

from deploy.access import ACCESS, Access
from deploy.stages import Stage
from deploy.tables import KEY_ID, logical_id

VERSION = "2012-10-17"


def _sid(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("/", "_").split("_"))


STREAM = "stream"  # ``"<table>/stream"``: the table's stream (what a stream trigger reads)
# The reads Lambda's poller makes on a trigger's stream for the function, under the function's role.
STREAM_ACTIONS = ("DescribeStream", "GetRecords", "GetShardIterator")


def _table_arn(entry: str) -> Any:
    table, _, index = entry.partition("/")
    if index == STREAM:
        return {"Fn::GetAtt": [logical_id(table), "StreamArn"]}
    if index:
        return {"Fn::Sub": f"${{{logical_id(table)}.Arn}}/index/{index}"}
    return {"Fn::GetAtt": [logical_id(table), "Arn"]}


def _log_statement(stage: Stage, function: str) -> dict[str, Any]:
    group = f"log-group:/aws/lambda/{stage.function_name(function)}:*"
    return {
        "Sid": "OwnLogGroup",
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": {"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:" + group},
    }


def _kms_statements(access: Access) -> list[dict[str, Any]]:
    statements = []
    for action, purposes in sorted(access.kms.items()):
        statements.append({
            "Sid": f"MasterKey{action}",
            "Effect": "Allow",
            "Action": f"kms:{action}",
            "Resource": {"Fn::GetAtt": [KEY_ID, "Arn"]},
            # Only the vault's own wrapping, bound to a tenant: never a bare Decrypt of any blob.
            "Condition": {
                "StringEquals": {"kms:EncryptionContext:purpose": list(purposes)},
                "Null": {"kms:EncryptionContext:tenant_id": "false"},
            },
        })
    return statements


def _message_statements(access: Access) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = []
    if access.email:
        statements.append({
            "Sid": "SendEmail",
            "Effect": "Allow",
            "Action": "ses:SendRawEmail",
            # From identities verified in this account and region (and their configuration sets).
            "Resource": [
                {"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/*"},
                {"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:configuration-set/*"},
            ],
        })
    if access.sms:
        statements.append({
            "Sid": "SendSms",
            "Effect": "Allow",
            "Action": "sns:Publish",
            "Resource": "*",  # SMS to a phone number has no resource ARN
        })
    return statements


def policy_document(stage: Stage, function: str) -> dict[str, Any]:
    """The policy of one function's role."""
    access = ACCESS[function]
    statements = [_log_statement(stage, function)]
    for entry, actions in sorted(access.tables.items()):
        statements.append({
            "Sid": _sid(entry),
            "Effect": "Allow",
            "Action": [f"dynamodb:{action}" for action in sorted(actions)],
            "Resource": _table_arn(entry),
        })
    if any(entry.endswith("/" + STREAM) for entry in access.tables):
        statements.append({
            "Sid": "ListStreams",
            "Effect": "Allow",
            "Action": "dynamodb:ListStreams",
            "Resource": "*",  # ListStreams has no resource type; it lists stream ARNs, never data
        })
    statements += _kms_statements(access)
    statements += _message_statements(access)
    return {"Version": VERSION, "Statement": statements}
