"""Operator functions and the CLI: JSON in, JSON out, never a traceback."""

from __future__ import annotations

import json

import pytest

import app as app_module
from chalicelib import cli
from chalicelib.admin import OPERATOR_FUNCTIONS


def test_every_operator_function_is_registered_with_chalice():
    registered = set(app_module.app.handler_map)
    assert set(OPERATOR_FUNCTIONS) <= registered


def test_create_tenant_normalises_its_own_numbers(operator, tables):
    from chalicelib import invocation
    from chalicelib.services.tenants.tenancy import require_tenant

    answer = operator("admin_create_tenant", {"name": "  Acme  ", "default_region": "in",
                                              "own_numbers": ["080 4000 0000", "+91 80 4000 0000"]})
    with invocation.invocation():
        record = require_tenant(answer["tenant_id"])
    assert record.name == "Acme" and record.default_region == "IN"
    assert record.own_numbers == ["+918040000000"]


@pytest.mark.parametrize(
    "payload",
    [None, [], "not json", "[1]", {"name": "x"}, {"name": "", "default_region": "IN"},
     {"name": "x", "default_region": "ZZ"}, {"name": "x", "default_region": "IN", "own_numbers": ["12"]},
     {"name": "x", "default_region": "IN", "unknown_calls_become_leads": "yes"},
     {"name": 5, "default_region": "IN"}, {"name": "x", "default_region": "IN", "evil": True}],
)
def test_bad_tenant_payloads_return_an_error_object(operator, tables, payload):
    result = operator("admin_create_tenant", payload)
    assert set(result) == {"error"}
    assert result["error"]["code"] == "validation_error"
    assert "Traceback" not in json.dumps(result)


def test_json_string_payloads_are_accepted(operator, tables):
    result = operator("admin_create_tenant", json.dumps({"name": "Acme", "default_region": "GB"}))
    assert result["tenant_id"].startswith("ten_")


def test_an_unexpected_failure_is_an_internal_error_object(operator, monkeypatch, tables):
    def explode(payload):
        raise RuntimeError("boom with +919876543210")

    monkeypatch.setattr("chalicelib.services.tenants.setup.create_tenant", explode)
    result = operator("admin_create_tenant", {"name": "x", "default_region": "IN"})
    assert result["error"]["code"] == "internal_error"
    assert "919876543210" not in json.dumps(result)


def test_chalice_lambda_entry_point_returns_the_same_answer(tables):
    from chalicelib.admin import admin_create_tenant
    from chalicelib.runtime import LocalContext

    result = admin_create_tenant({"name": "Via Lambda", "default_region": "IN"}, LocalContext("x"))
    assert result["tenant_id"].startswith("ten_")


def test_cli_init_is_idempotent(aws, capsys):
    assert cli.main(["init"]) == 0
    first = json.loads(capsys.readouterr().out)["tables"]
    assert set(first.values()) == {"created"}
    assert cli.main(["init"]) == 0
    assert set(json.loads(capsys.readouterr().out)["tables"].values()) == {"exists"}


def test_cli_invoke_prints_the_functions_json(tables, capsys):
    assert cli.main(["invoke", "admin_create_tenant", '{"name": "Cli", "default_region": "IN"}']) == 0
    tenant_id = json.loads(capsys.readouterr().out)["tenant_id"]
    assert cli.main(["invoke", "admin_issue_api_key", json.dumps({"tenant_id": tenant_id, "role": "admin"})]) == 0
    assert json.loads(capsys.readouterr().out)["api_key"].startswith("lv.")
    assert cli.main(["invoke", "admin_issue_api_key", "{broken"]) == 1
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "validation_error"
    assert cli.main(["invoke", "no_such_function", "{}"]) == 2


def test_cli_run_job_refuses_an_unknown_job(capsys, tables):
    assert cli.main(["run-job", "no_such_job"]) == 2
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "unknown_function"
