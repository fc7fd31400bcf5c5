"""The merge template of one stage: what ``chalice package --merge-template`` adds to Chalice's own.

Chalice writes the functions, their roles (with our policy files), the API and the schedules.
This adds the tables, the master key and its alias, one log group per function with a retention,
stable function names (the CLI and the console find ``<app>-<stage>-<function>``), and the
settings an operator gives at deploy time (sender address, public URL, send rate).
"""

from __future__ import annotations

from typing import Any

from deploy.functions import Function, app_functions
from deploy.stages import Stage
from deploy.tables import KEY_ID, table_resources

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


def merge_template(stage: Stage) -> dict[str, Any]:
    resources: dict[str, dict[str, Any]] = {**key_resources(stage), **table_resources(stage)}
    for function in app_functions():
        resources.update(function_resources(stage, function))
    return {
        "Parameters": PARAMETERS,
        "Resources": resources,
        "Outputs": {
            "MasterKeyArn": {"Value": {"Fn::GetAtt": [KEY_ID, "Arn"]}},
            "TablePrefix": {"Value": stage.table_prefix},
        },
    }
