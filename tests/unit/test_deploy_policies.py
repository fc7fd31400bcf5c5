"""IAM policies per function: generated from deploy/access.py, exact, and enough for what the code does.

Every test in the suite already holds each deployed function's AWS calls against its policy file
(tests/conftest.py); these tests show that check bites, and keep the policies narrow.
"""

from __future__ import annotations

import dataclasses
import json
import os

import pytest

from chalicelib.jobs import invoke_job
from chalicelib.runtime import LocalContext
from deploy.access import ACCESS, BLIND_INDEX
from deploy.functions import app_functions
from deploy.generate import stale_files
from deploy.policies import policy_document
from deploy.stages import DEPLOYED_STAGES, ROOT, stage
from tests.support.aws_access import KEY_ARN, TABLE_ARN, Request, recording
from tests.support.iam import denied, policy
from tests.support.leads import lead_body, post_lead


def test_generated_files_match_the_code():
    stale = [str(path.relative_to(ROOT)) for path in stale_files()]
    assert stale == [], "run: python -m deploy.generate"


def test_every_function_has_its_own_access_and_policy_file_in_each_stage():
    names = {function.name for function in app_functions()}
    assert set(ACCESS) == names
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for stage_name in DEPLOYED_STAGES:
        settings = config["stages"][stage_name]
        assert settings["autogen_policy"] is False
        files = {name: settings["lambda_functions"][name]["iam_policy_file"] for name in names}
        assert len(set(files.values())) == len(names), "one policy file per function"
        assert all(stage_name in path for path in files.values())


def test_access_names_real_tables_and_indexes():
    from chalicelib.store.binding import all_models

    indexes = {model.table_suffix: {index.Meta.index_name for index in model._indexes.values()}
               for model in all_models()}
    for function, access in ACCESS.items():
        for entry in access.tables:
            table, _, index = entry.partition("/")
            assert table in indexes, (function, entry)
            if index == "stream":  # a table's stream: only a table with one
                model = next(m for m in all_models() if m.table_suffix == table)
                assert getattr(model.Meta, "stream_view_type", None), (function, entry)
                continue
            assert not index or index in indexes[table], (function, entry)


@pytest.mark.parametrize("stage_name", DEPLOYED_STAGES)
def test_policies_name_exact_resources_and_no_wildcard_actions(stage_name):
    for function in ACCESS:
        for statement in policy_document(stage(stage_name), function)["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert all("*" not in action for action in actions), (function, statement)
            if statement["Resource"] == "*":
                # SMS has no resource ARN; ListStreams (the stream trigger's) has no resource type
                assert actions in (["sns:Publish"], ["dynamodb:ListStreams"]), (function, statement)
            if actions[0].startswith("kms:"):
                assert "kms:EncryptionContext:purpose" in statement["Condition"]["StringEquals"]


def test_policies_refuse_what_a_function_does_not_do():
    leads = TABLE_ARN + "leadvault-dev-leads"
    refused = [
        Request("admin_policy_status", "dynamodb:PutItem", TABLE_ARN + "leadvault-dev-policies"),
        Request("api_handler", "dynamodb:Scan", leads),
        Request("api_handler", "dynamodb:DeleteItem", leads),
        Request("api_handler", "dynamodb:GetItem", TABLE_ARN + "leadvault-prod-leads"),  # another stage's table
        Request("purge_expired", "kms:Decrypt", KEY_ARN, (("purpose", "person-data-key"), ("tenant_id", "t"))),
        Request("api_handler", "kms:Decrypt", KEY_ARN),  # no encryption context: not the vault's
        Request("api_handler", "kms:GenerateDataKey", KEY_ARN, (("purpose", BLIND_INDEX), ("tenant_id", "t"))),
        Request("admin_set_retention", "ses:SendRawEmail", "arn:aws:ses:us-east-1:123456789012:identity/x"),
    ]
    assert denied("dev", refused) == sorted(refused, key=lambda r: (r.function, r.action, r.resource))
    assert policy("dev", "api_handler")  # the files were read, not skipped


def test_a_policy_without_what_the_code_needs_is_caught(client, widget, operator, tenant, monkeypatch):
    """Record real runs, then take one action (and one key purpose) away: exactly those calls are refused."""
    with recording(os.environ["LEADVAULT_TABLE_PREFIX"], stage("dev").table_prefix) as recorder:
        assert post_lead(client, widget, lead_body()).status_code == 201
        invoke_job("purge_expired", LocalContext("purge_expired", timeout_s=60))
        operator("admin_policy_status", {"policy_id": "pol_00000000000000000000"})
    functions = {request.function for request in recorder.requests}
    assert functions == {"api_handler", "purge_expired", "admin_policy_status"}
    assert denied("dev", recorder.requests) == []

    purge, api = ACCESS["purge_expired"], ACCESS["api_handler"]
    monkeypatch.setitem(ACCESS, "purge_expired", dataclasses.replace(
        purge, tables={**purge.tables, "tenants": tuple(a for a in purge.tables["tenants"] if a != "Scan")}))
    monkeypatch.setitem(ACCESS, "api_handler", dataclasses.replace(
        api, kms={**api.kms, "GenerateDataKey": (BLIND_INDEX,)}))
    documents = {function: policy_document(stage("dev"), function) for function in functions}
    refused = denied("dev", recorder.requests, documents)
    assert [(r.function, r.action) for r in refused] == [("api_handler", "kms:GenerateDataKey"),
                                                         ("purge_expired", "dynamodb:Scan")]
