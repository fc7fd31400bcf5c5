"""Operator functions and the CLI: JSON in, JSON out, never a traceback."""

from __future__ import annotations

import importlib
import json

import pytest

import app as app_module
from chalicelib import cli
from chalicelib.admin import OPERATOR_FUNCTIONS
from chalicelib.jobs import SCHEDULED_FUNCTIONS, Schedule


@pytest.fixture(autouse=True)
def logs_stay_where_they_were(monkeypatch):
    """``cli.main`` sends the process's logs to stderr; later tests in the worker read them on stdout."""
    from chalicelib import logs

    monkeypatch.setitem(logs._STREAM, "name", logs._STREAM["name"])


def lambda_handler(handler_string: str):
    """What Lambda runs for a handler string: the attribute of the imported module."""
    module, _, attribute = handler_string.rpartition(".")
    return getattr(importlib.import_module(module), attribute)


def test_every_operator_function_is_registered_with_chalice():
    functions = {function.name: function for function in app_module.app.pure_lambda_functions}
    assert set(functions) == set(OPERATOR_FUNCTIONS)
    for name, function in functions.items():
        assert function.handler_string == f"chalicelib.admin.{name}"
        assert lambda_handler(function.handler_string) is app_module.app.handler_map[name]


def test_every_scheduled_function_is_registered_at_its_rate():
    schedules = {source.name: source for source in app_module.app.event_sources
                 if hasattr(source, "schedule_expression")}
    assert set(schedules) == set(SCHEDULED_FUNCTIONS)
    assert {name: source.schedule_expression.to_string() for name, source in schedules.items()} == {
        "privacy_worker": "rate(1 minute)", "purge_expired": "rate(1 hour)", "retention_notices": "rate(1 day)",
        "dispatch_notifications": "rate(5 minutes)", "retry_webhooks": "rate(1 minute)"}
    for name, source in schedules.items():
        assert source.handler_string == f"chalicelib.jobs.{name}"
        assert lambda_handler(source.handler_string) is app_module.app.handler_map[name]


def test_the_stream_function_reads_the_event_logs_stream_and_answers_records_to_read_again(monkeypatch):
    """Called as Lambda calls it: the records reach the services' handler, its answer goes back to Lambda."""
    from chalicelib.jobs import STREAM_FUNCTIONS

    [source] = [source for source in app_module.app.event_sources if hasattr(source, "stream_arn")]
    assert (source.name, source.starting_position, set(STREAM_FUNCTIONS)) == (
        "deliver_webhooks", "TRIM_HORIZON", {"deliver_webhooks"})
    seen = []

    def handler(records, context):
        seen.append((records, context.function_name))
        return {"batchItemFailures": [{"itemIdentifier": "2"}]}

    monkeypatch.setattr("chalicelib.services.webhooks.stream.deliver_records", handler)
    records = [{"eventName": "INSERT", "dynamodb": {"SequenceNumber": "2", "ApproximateCreationDateTime": 0,
                                                    "SizeBytes": 1, "StreamViewType": "NEW_IMAGE"}}]
    context = type("Context", (), {"function_name": "leadvault-dev-deliver_webhooks"})()
    answer = app_module.app.handler_map["deliver_webhooks"]({"Records": records}, context)
    assert answer == {"batchItemFailures": [{"itemIdentifier": "2"}]}
    assert seen == [(records, "leadvault-dev-deliver_webhooks")]


@pytest.mark.parametrize(("minutes", "expression"), [
    (1, "rate(1 minute)"), (5, "rate(5 minutes)"), (90, "rate(90 minutes)"), (120, "rate(2 hours)"),
    (24 * 60, "rate(1 day)"), (7 * 24 * 60, "rate(7 days)")])
def test_a_schedule_is_written_in_its_largest_whole_unit(minutes, expression):
    assert Schedule(minutes, "x:y").rate.to_string() == expression


def test_a_scheduled_function_runs_its_job_with_the_lambdas_context(monkeypatch):
    """Called as Lambda calls it: the event dict and the context, which Chalice folds into one event object."""
    from chalicelib.jobs import privacy_worker
    from chalicelib.runtime import LocalContext

    ran = []
    monkeypatch.setattr("chalicelib.jobs.run_job", lambda *args: ran.append(args) or {"done": 0})
    context = LocalContext("privacy_worker")
    event = {"version": "0", "id": "x", "detail-type": "Scheduled Event", "source": "aws.events", "account": "1",
             "time": "2026-01-01T00:00:00Z", "region": "us-east-1", "resources": [], "detail": {}}
    assert privacy_worker(event, context) == {"done": 0}
    assert ran == [("privacy_worker", SCHEDULED_FUNCTIONS["privacy_worker"].target, context)]


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
