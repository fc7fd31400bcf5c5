"""The merge templates: tables exactly as the models create them locally, the key, names, log groups.

The reference for each table is what ``chalicelib.cli init`` creates (PynamoDB's create_table,
on moto), read back with DescribeTable and DescribeTimeToLive: CloudFormation must build the same.
"""

from __future__ import annotations

import json

import boto3
import pytest

from chalicelib.config import get_settings
from chalicelib.store.binding import _bound_models, all_models
from deploy.functions import app_functions
from deploy.generate import template_path
from deploy.stages import DEPLOYED_STAGES, stage
from deploy.tables import logical_id


def merge_template(stage_name):
    return json.loads(template_path(stage_name).read_text())


def tables_of(template):
    return {r["Properties"]["TableName"]: r for r in template["Resources"].values()
            if r.get("Type") == "AWS::DynamoDB::Table"}


def _keys(elements):
    return sorted((e["AttributeName"], e["KeyType"]) for e in elements)


def _indexes(indexes):
    return sorted((i["IndexName"], tuple(_keys(i["KeySchema"])), i["Projection"]["ProjectionType"],
                   tuple(sorted(i["Projection"].get("NonKeyAttributes", [])))) for i in indexes or [])


def _shape(table):
    """Keys, attribute types, indexes and billing of a table, in one comparable form."""
    return {
        "keys": _keys(table["KeySchema"]),
        "attributes": sorted((a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]),
        "global": _indexes(table.get("GlobalSecondaryIndexes")),
        "local": _indexes(table.get("LocalSecondaryIndexes")),
        "billing": table.get("BillingMode") or table.get("BillingModeSummary", {}).get("BillingMode"),
    }


@pytest.mark.parametrize("stage_name", DEPLOYED_STAGES)
def test_tables_are_what_the_models_create(tables, stage_name):
    client = boto3.client("dynamodb", region_name="us-east-1")
    prefix, deployed = get_settings().table_prefix, stage(stage_name)
    template_tables = tables_of(merge_template(stage_name))
    assert set(template_tables) == {deployed.table_prefix + m.table_suffix for m in all_models()}
    for model in all_models():
        created = client.describe_table(TableName=prefix + model.table_suffix)["Table"]
        resource = template_tables[deployed.table_prefix + model.table_suffix]
        assert _shape(resource["Properties"]) == _shape(created), model.table_suffix
        ttl = client.describe_time_to_live(TableName=prefix + model.table_suffix)["TimeToLiveDescription"]
        assert ttl["TimeToLiveStatus"] == "ENABLED" and ttl["AttributeName"] == "expires_at"
        assert resource["Properties"]["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_models_sharing_a_table_share_its_key():
    schema = {model.table_suffix: model._get_schema()["key_schema"] for model in all_models()}
    for model in _bound_models():
        assert _keys(model._get_schema()["key_schema"]) == _keys(schema[model.table_suffix]), model.__name__


@pytest.mark.parametrize("stage_name", DEPLOYED_STAGES)
def test_every_table_is_recoverable_encrypted_and_protected_in_prod(stage_name):
    prod = stage_name == "prod"
    for name, table in tables_of(merge_template(stage_name)).items():
        props = table["Properties"]
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True,
                                                             "RecoveryPeriodInDays": 35 if prod else 7}, name
        assert props["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS",
                                             "KMSMasterKeyId": {"Fn::GetAtt": ["MasterKey", "Arn"]}}, name
        assert props["DeletionProtectionEnabled"] is prod, name
        assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == ("Retain" if prod else "Delete"), name


@pytest.mark.parametrize("stage_name", DEPLOYED_STAGES)
def test_the_key_rotates_and_its_alias_is_the_one_the_functions_use(stage_name):
    resources = merge_template(stage_name)["Resources"]
    assert resources["MasterKey"]["Properties"]["EnableKeyRotation"] is True
    aliases = [r["Properties"] for r in resources.values() if r.get("Type") == "AWS::KMS::Alias"]
    assert aliases == [{"AliasName": stage(stage_name).kms_alias, "TargetKeyId": {"Ref": "MasterKey"}}]
    assert stage(stage_name).kms_alias == f"alias/leadvault-{stage_name}"


@pytest.mark.parametrize("stage_name", DEPLOYED_STAGES)
def test_functions_get_stable_names_and_a_log_group_with_retention(stage_name):
    resources = merge_template(stage_name)["Resources"]
    for function in app_functions():
        name = f"leadvault-{stage_name}-{function.name}"  # what the CLI's --remote invokes
        assert resources[function.logical_id]["Properties"]["FunctionName"] == name
        group = resources[f"{function.logical_id}LogGroup"]["Properties"]
        assert group["LogGroupName"] == f"/aws/lambda/{name}" and group["RetentionInDays"] > 0


def test_table_ids_are_distinct():
    ids = [logical_id(model.table_suffix) for model in all_models()]
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("stage_name", DEPLOYED_STAGES)
def test_the_gateways_own_errors_are_in_the_contract_shape_and_echo_nothing(stage_name):
    template = merge_template(stage_name)
    api = template["Resources"]["RestAPI"]["Properties"]  # Chalice's REST API, merged by logical id
    responses = api["GatewayResponses"]
    not_found = {"error": {"code": "not_found", "message": "No such resource."}}
    for unknown_route in ("MISSING_AUTHENTICATION_TOKEN", "RESOURCE_NOT_FOUND"):
        assert responses[unknown_route]["StatusCode"] == "404"
        assert json.loads(responses[unknown_route]["ResponseTemplates"]["application/json"]) == not_found
    assert responses["THROTTLED"]["StatusCode"] == "429"
    assert responses["THROTTLED"]["ResponseParameters"]["Headers"]["Retry-After"] == "'1'"
    codes = {}
    for response_type, response in responses.items():
        assert set(response["ResponseTemplates"]) == {"application/json"}, response_type
        body = response["ResponseTemplates"]["application/json"]
        assert "$" not in body, response_type  # no $context or $input: nothing of the request comes back
        error = json.loads(body)["error"]
        assert set(error) == {"code", "message"} and error["message"], response_type
        codes[response_type] = error["code"]
        headers = response["ResponseParameters"]["Headers"]
        assert headers["Cache-Control"] == "'no-store'"
        assert all(value.startswith("'") and value.endswith("'") for value in headers.values()), response_type
    assert codes["THROTTLED"] == "rate_limited" and codes["DEFAULT_5XX"] == "internal_error"
    assert "StatusCode" not in responses["DEFAULT_4XX"] and "StatusCode" not in responses["DEFAULT_5XX"]


@pytest.mark.parametrize("stage_name", DEPLOYED_STAGES)
def test_the_stage_is_throttled_by_parameters_with_stage_defaults(stage_name):
    template = merge_template(stage_name)
    settings = template["Resources"]["RestAPI"]["Properties"]["MethodSettings"]
    assert settings == [{"ResourcePath": "/*", "HttpMethod": "*", "ThrottlingRateLimit": {"Ref": "ThrottleRate"},
                         "ThrottlingBurstLimit": {"Ref": "ThrottleBurst"}}]
    rate, burst = (int(template["Parameters"][name]["Default"]) for name in ("ThrottleRate", "ThrottleBurst"))
    assert 0 < rate < burst and burst <= 5000  # under the account's default burst
    assert (rate, burst) == (stage(stage_name).throttle_rate, stage(stage_name).throttle_burst)
