"""A small IAM evaluator: is a recorded request allowed by the function's policy file for a stage?

Enough of IAM for our own policies: Allow and Deny, wildcards in actions and resources, and the
condition operators the policies use (StringEquals, StringLike, Null). The CloudFormation
intrinsics in the files are resolved against the stage's merge template, as CloudFormation would.
Anything else in a policy is an error here, so the tests never pass on a policy they misread.
"""

from __future__ import annotations

import fnmatch
import json
import re
from functools import cache
from typing import Any

from tests.support.aws_access import ACCOUNT, KEY_ARN, REGION, TABLE_ARN, Request

PSEUDO = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::URLSuffix": "amazonaws.com"}


@cache
def _template(stage: str) -> dict[str, Any]:
    from deploy.generate import template_path

    return json.loads(template_path(stage).read_text())


def _arn_of(stage: str, logical_id: str) -> str:
    resource = _template(stage)["Resources"][logical_id]
    if resource["Type"] == "AWS::DynamoDB::Table":
        return TABLE_ARN + resource["Properties"]["TableName"]
    if resource["Type"] == "AWS::KMS::Key":
        return KEY_ARN
    raise ValueError(f"no ARN for {logical_id}")


def resolve(stage: str, value: Any) -> Any:
    """Replace Fn::GetAtt/Fn::Sub/Ref of the template's own resources and pseudo parameters."""
    if isinstance(value, list):
        return [resolve(stage, item) for item in value]
    if not isinstance(value, dict):
        return value
    if "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        if attribute == "StreamArn":  # a table's stream (what Lambda reads for a trigger, never the code)
            return _arn_of(stage, logical_id) + "/stream/*"
        if attribute != "Arn":
            raise ValueError(f"unsupported attribute {attribute}")
        return _arn_of(stage, logical_id)
    if "Fn::Sub" in value:
        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            return PSEUDO[name] if name in PSEUDO else _arn_of(stage, name.removesuffix(".Arn"))

        return re.sub(r"\$\{([^}]+)\}", substitute, value["Fn::Sub"])
    if "Ref" in value:
        return PSEUDO[value["Ref"]]
    return {key: resolve(stage, item) for key, item in value.items()}


@cache
def policy(stage: str, function: str) -> tuple[dict[str, Any], ...]:
    """The statements of a function's committed policy file, intrinsics resolved."""
    from deploy.generate import policy_file
    from deploy.stages import ROOT

    document = json.loads((ROOT / ".chalice" / policy_file(stage, function)).read_text())
    return tuple(resolve(stage, statement) for statement in document["Statement"])


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _condition_holds(condition: dict[str, dict[str, Any]], context: dict[str, str]) -> bool:
    for operator, tests in condition.items():
        for key, wanted in tests.items():
            present = context.get(key)
            if operator == "Null":
                if (present is None) != (str(wanted).lower() == "true"):
                    return False
            elif operator == "StringEquals":
                if present is None or present not in _listed(wanted):
                    return False
            elif operator == "StringLike":
                if present is None or not any(fnmatch.fnmatchcase(present, p) for p in _listed(wanted)):
                    return False
            else:
                raise ValueError(f"condition operator {operator} not understood by this evaluator")
    return True


def _matches(statement: dict[str, Any], request: Request) -> bool:
    if set(statement) - {"Sid", "Effect", "Action", "Resource", "Condition"}:
        raise ValueError(f"statement keys not understood by this evaluator: {sorted(statement)}")
    action = request.action.lower()
    if not any(fnmatch.fnmatchcase(action, pattern.lower()) for pattern in _listed(statement["Action"])):
        return False
    if not any(fnmatch.fnmatchcase(request.resource, pattern) for pattern in _listed(statement["Resource"])):
        return False
    context = {f"kms:EncryptionContext:{key}": value for key, value in request.context}
    return _condition_holds(statement.get("Condition", {}), context)


def allowed(statements: tuple[dict[str, Any], ...], request: Request) -> bool:
    """Allowed by an Allow statement and by no Deny statement."""
    matching = [s for s in statements if _matches(s, request)]
    return any(s["Effect"] == "Allow" for s in matching) and not any(s["Effect"] == "Deny" for s in matching)


def denied(stage: str, requests: list[Request], documents: dict[str, dict[str, Any]] | None = None) -> list[Request]:
    """The distinct requests the stage's policy files (or the given documents, by function) would refuse."""

    def statements(function: str) -> tuple[dict[str, Any], ...]:
        if documents is None:
            return policy(stage, function)
        return tuple(resolve(stage, statement) for statement in documents[function]["Statement"])

    return sorted((request for request in set(requests) if not allowed(statements(request.function), request)),
                  key=lambda r: (r.function, r.action, r.resource))
