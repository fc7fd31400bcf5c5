"""The merge template of one stage: what ``chalice package --merge-template`` adds to Chalice's own.

Chalice writes the functions, their roles (with our policy files), the API, the schedules and the stream
trigger (whose stream this points at the events table's).
This adds the tables, the master key and its alias, one log group per function with a retention,
stable function names (the CLI and the console find ``<app>-<stage>-<function>``), the API's
gateway responses (API Gateway's own errors in the contract's shape) and stage throttling, and the
settings an operator gives at deploy time (sender address, public URL, send rate, throttling).
"""

from __future__ import annotations

import json
from typing import Any

from deploy.functions import Function, app_functions
from deploy.stages import Stage
from deploy.tables import KEY_ID, logical_id, table_resources

PARAMETERS: dict[str, dict[str, Any]] = {
    "EmailFrom": {
        "Type": "String",
        "Description": "Sender of every e-mail, e.g. 'Acme Privacy <privacy@acme.example>' (an SES-verified identity)",
        "AllowedPattern": ".*@.+",
    },
    "PublicUrl": {
        "Type": "String",
        "Description": "Base URL of the API as people reach it (the links in messages), without a trailing slash",
        "AllowedPattern": "https://.+",
    },
    "SendRate": {
        "Type": "String",
        "Description": "Messages per second the dispatcher may send (the SES account's maximum send rate)",
        "Default": "14",
        "AllowedPattern": "[0-9]+(\\.[0-9]+)?",
    },
}

SETTINGS = {"LEADVAULT_EMAIL_FROM": "EmailFrom", "LEADVAULT_PUBLIC_URL": "PublicUrl", "LEADVAULT_SEND_RATE": "SendRate"}

REST_API_ID = "RestAPI"  # Chalice's logical id of the REST API (AWS::Serverless::Api) in `chalice package`'s template

# API Gateway's own answers (no route, throttled, the function failed...) in the contract's shape, with fixed
# text: nothing of the request is echoed. (response type -> status, or None to keep the type's own; code; message)
GATEWAY_ERRORS: dict[str, tuple[int | None, str, str]] = {
    # An unknown path or method: API Gateway's own answer would be 403 "Missing Authentication Token".
    "MISSING_AUTHENTICATION_TOKEN": (404, "not_found", "No such resource."),
    "RESOURCE_NOT_FOUND": (404, "not_found", "No such resource."),
    "THROTTLED": (429, "rate_limited", "Too many requests; try again shortly."),
    "QUOTA_EXCEEDED": (429, "rate_limited", "Too many requests; try again later."),
    "ACCESS_DENIED": (403, "forbidden", "This request is not allowed."),
    "WAF_FILTERED": (403, "forbidden", "This request is not allowed."),
    "REQUEST_TOO_LARGE": (413, "payload_too_large", "The body is larger than 64 KiB."),
    "UNSUPPORTED_MEDIA_TYPE": (415, "unsupported_media_type", "Send the body as application/json."),
    "DEFAULT_4XX": (None, "bad_request", "The request could not be processed."),
    "DEFAULT_5XX": (None, "internal_error", "Something went wrong on our side."),
}
RETRY_AFTER_S = 1  # the stage's throttle is a token bucket refilled every second


def gateway_responses() -> dict[str, dict[str, Any]]:
    """SAM's ``GatewayResponses`` of the REST API.

    SAM writes them into the API's definition, so every deployment of the stage carries them. (Separate
    ``AWS::ApiGateway::GatewayResponse`` resources would reach the stage only with a later deployment.)
    """
    responses = {}
    for response_type, (status, code, message) in GATEWAY_ERRORS.items():
        headers = {"Cache-Control": "'no-store'"}
        if response_type == "THROTTLED":
            headers["Retry-After"] = f"'{RETRY_AFTER_S}'"
        body = json.dumps({"error": {"code": code, "message": message}}, separators=(",", ":"))
        response: dict[str, Any] = {"ResponseParameters": {"Headers": headers},
                                    "ResponseTemplates": {"application/json": body}}
        if status is not None:
            response["StatusCode"] = str(status)
        responses[response_type] = response
    return responses


def throttle_parameters(stage: Stage) -> dict[str, dict[str, Any]]:
    """Stage-wide throttling: the first line of rate limiting, before a request reaches a function."""
    return {
        "ThrottleRate": {"Type": "Number", "Default": str(stage.throttle_rate),
                         "Description": "Requests per second the API's stage accepts in all (steady rate)",
                         "MinValue": 1},
        "ThrottleBurst": {"Type": "Number", "Default": str(stage.throttle_burst),
                          "Description": "Requests the API's stage accepts at once above the steady rate (burst)",
                          "MinValue": 1},
    }


def api_resources() -> dict[str, dict[str, Any]]:
    """Additions to Chalice's REST API: its gateway responses and the stage's throttling."""
    return {REST_API_ID: {"Properties": {
        "GatewayResponses": gateway_responses(),
        "MethodSettings": [{"ResourcePath": "/*", "HttpMethod": "*",
                            "ThrottlingRateLimit": {"Ref": "ThrottleRate"},
                            "ThrottlingBurstLimit": {"Ref": "ThrottleBurst"}}],
    }}}


def key_resources(stage: Stage) -> dict[str, dict[str, Any]]:
    """The master key: wraps every person's data key and the tenants' index secrets, and encrypts the tables."""
    retain = "Retain" if stage.protected else "Delete"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountManagesKeyThroughIam",
                "Effect": "Allow",
                "Principal": {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "DynamoDbEncryptsTablesForThisAccount",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
                           "kms:CreateGrant", "kms:DescribeKey"],
                "Resource": "*",
                "Condition": {"StringEquals": {
                    "kms:CallerAccount": {"Ref": "AWS::AccountId"},
                    "kms:ViaService": {"Fn::Sub": "dynamodb.${AWS::Region}.amazonaws.com"},
                }},
            },
        ],
    }
    return {
        KEY_ID: {
            "Type": "AWS::KMS::Key",
            "DeletionPolicy": retain,
            "UpdateReplacePolicy": retain,
            "Properties": {
                "Description": f"LeadVault {stage.name}: wraps personal data keys, encrypts the tables",
                "EnableKeyRotation": True,
                "KeySpec": "SYMMETRIC_DEFAULT",
                "KeyUsage": "ENCRYPT_DECRYPT",
                "PendingWindowInDays": 30 if stage.protected else 7,
                "KeyPolicy": policy,
            },
        },
        f"{KEY_ID}Alias": {
            "Type": "AWS::KMS::Alias",
            "Properties": {"AliasName": stage.kms_alias, "TargetKeyId": {"Ref": KEY_ID}},
        },
    }


def function_resources(stage: Stage, function: Function) -> dict[str, dict[str, Any]]:
    """Additions to Chalice's function resource, and the function's log group."""
    log_group = f"{function.logical_id}LogGroup"
    return {
        log_group: {
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "Delete",
            "UpdateReplacePolicy": "Delete",
            "Properties": {"LogGroupName": f"/aws/lambda/{stage.function_name(function.name)}",
                           "RetentionInDays": stage.log_retention_days},
        },
        function.logical_id: {
            # The role may write only to this group, so it must exist before the function runs;
            # the functions name the key by its alias. (Roles already wait for the tables and key.)
            "DependsOn": [log_group, f"{KEY_ID}Alias"],
            "Properties": {
                "FunctionName": stage.function_name(function.name),
                "Environment": {"Variables": {name: {"Ref": parameter} for name, parameter in SETTINGS.items()}},
            },
        },
    }


EVENTS_TABLE = "events"  # the table whose stream the stream functions read (chalicelib/store/models/events.py)
STREAM_RETRIES = 10  # Lambda's retries of a failing stream record before it gives the record up
STREAM_RECORD_AGE_S = 6 * 3600  # a record older than this is given up (the stream keeps 24 hours)


def stream_event(function: Function) -> dict[str, Any]:
    """Chalice's stream event of the function, pointed at the events table's stream (Chalice packages a
    placeholder ARN: the stream's ARN exists only once CloudFormation made the table), reporting the
    records to read again one by one (``batchItemFailures``) instead of failing the whole batch.

    Bounded: a record is retried :data:`STREAM_RETRIES` times and for :data:`STREAM_RECORD_AGE_S` at most,
    and a failing batch is split in two (bisected) to isolate the bad record, so one poisoned record never
    holds up its shard for the stream's 24 hours. A record given up on keeps its event in the events table.
    """
    from chalice.utils import to_cfn_resource_name

    return {to_cfn_resource_name(f"{function.name}-dynamodb-event-source"): {"Properties": {
        "Stream": {"Fn::GetAtt": [logical_id(EVENTS_TABLE), "StreamArn"]},
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "MaximumRetryAttempts": STREAM_RETRIES,
        "BisectBatchOnFunctionError": True,
        "MaximumRecordAgeInSeconds": STREAM_RECORD_AGE_S,
    }}}


def merge_template(stage: Stage) -> dict[str, Any]:
    resources: dict[str, dict[str, Any]] = {**key_resources(stage), **table_resources(stage), **api_resources()}
    for function in app_functions():
        resources.update(function_resources(stage, function))
        if function.kind == "stream":
            resources[function.logical_id]["Properties"]["Events"] = stream_event(function)
    return {
        "Parameters": {**PARAMETERS, **throttle_parameters(stage)},
        "Resources": resources,
        "Outputs": {
            "MasterKeyArn": {"Value": {"Fn::GetAtt": [KEY_ID, "Arn"]}},
            "TablePrefix": {"Value": stage.table_prefix},
        },
    }
