"""DynamoDB tables for CloudFormation, derived from the PynamoDB models so the two cannot drift."""

from __future__ import annotations

from typing import Any

from deploy.stages import Stage

KEY_ID = "MasterKey"
TTL_ATTRIBUTE = "expires_at"


def logical_id(suffix: str) -> str:
    """``unique_keys`` -> ``UniqueKeysTable``."""
    return "".join(part.capitalize() for part in suffix.split("_")) + "Table"


def _key_schema(elements: list[dict[str, str]]) -> list[dict[str, str]]:
    """HASH before RANGE, as DynamoDB requires (PynamoDB lists them in attribute order)."""
    ordered = sorted(elements, key=lambda element: element["KeyType"] != "HASH")
    return [{"AttributeName": e["AttributeName"], "KeyType": e["KeyType"]} for e in ordered]


def _index(index: dict[str, Any]) -> dict[str, Any]:
    return {"IndexName": index["index_name"], "KeySchema": _key_schema(index["key_schema"]),
            "Projection": dict(index["projection"])}


def table_schema(model: Any) -> dict[str, Any]:
    """Keys, attribute definitions and indexes of one model, in CloudFormation's property names."""
    schema = model._get_schema()
    definitions = {d["AttributeName"]: d["AttributeType"] for d in schema["attribute_definitions"]}
    properties: dict[str, Any] = {
        "AttributeDefinitions": [{"AttributeName": name, "AttributeType": kind}
                                 for name, kind in sorted(definitions.items())],
        "KeySchema": _key_schema(schema["key_schema"]),
    }
    if schema["global_secondary_indexes"]:
        properties["GlobalSecondaryIndexes"] = sorted(
            (_index(index) for index in schema["global_secondary_indexes"]), key=lambda i: i["IndexName"])
    if schema["local_secondary_indexes"]:
        properties["LocalSecondaryIndexes"] = sorted(
            (_index(index) for index in schema["local_secondary_indexes"]), key=lambda i: i["IndexName"])
    return properties


def _ttl_attribute(model: Any) -> str:
    from chalicelib.store.ttl import ExpiresAtAttribute

    names = [attribute.attr_name for attribute in model.get_attributes().values()
             if isinstance(attribute, ExpiresAtAttribute)]
    if names != [TTL_ATTRIBUTE]:
        raise ValueError(f"{model.__name__} must carry exactly one {TTL_ATTRIBUTE} TTL attribute, has {names}")
    return TTL_ATTRIBUTE


def table_resources(stage: Stage) -> dict[str, dict[str, Any]]:
    """One table per model: on demand, TTL, point-in-time recovery, the stage's KMS key."""
    from chalicelib.store.binding import all_models

    retain = "Retain" if stage.protected else "Delete"
    resources: dict[str, dict[str, Any]] = {}
    for model in all_models():
        properties = {
            "TableName": stage.table_prefix + model.table_suffix,
            "BillingMode": "PAY_PER_REQUEST",
            **table_schema(model),
            "TimeToLiveSpecification": {"AttributeName": _ttl_attribute(model), "Enabled": True},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True,
                                                 "RecoveryPeriodInDays": stage.recovery_days},
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS",
                                 "KMSMasterKeyId": {"Fn::GetAtt": [KEY_ID, "Arn"]}},
            "DeletionProtectionEnabled": stage.protected,
        }
        stream = getattr(model.Meta, "stream_view_type", None)
        if stream:  # the event log: what delivery reads (chalicelib/store/models/events.py)
            properties["StreamSpecification"] = {"StreamViewType": stream}
        resources[logical_id(model.table_suffix)] = {
            "Type": "AWS::DynamoDB::Table",
            "DeletionPolicy": retain,
            "UpdateReplacePolicy": retain,
            "Properties": properties,
        }
    return resources
