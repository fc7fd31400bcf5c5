"""Schemathesis fuzzes every route of the real local run with real keys: no 5xx, every answer as documented."""

from __future__ import annotations

import json

import pytest

from tests.e2e.fuzz_seed import Seeded, seed
from tests.e2e.fuzzing import Tally, config_for, run_pass
from tests.e2e.local_run import LocalRun

pytestmark = pytest.mark.e2e

MAX_EXAMPLES = 8
MIN_REQUESTS = 500
MIN_PER_OPERATION = 10
# An operation that takes no parameter and no body has one input; schemathesis sends it a few times (the
# examples, coverage and stateful phases), not ten, and how many depends on the stateful phase's links.
MIN_PER_FIXED_OPERATION = 4
MAX_PROBLEM_CHARS = 3000  # generated values can be long


def test_schemathesis_finds_nothing_across_all_routes(tmp_path, capsys):
    run = LocalRun(tmp_path / "data", schedule_scale=0.01).start()
    try:
        keys = run.keys()
        tenant_id = json.loads((tmp_path / "data" / "demo-tenant.json").read_text())["tenant_id"]
        seeded = seed(run, keys, tenant_id)
        status, document = run.request("GET", "/v1/openapi.json")
        assert status == 200
        tally = Tally()
        for pass_name, admin_pass in (("least", False), ("admin", True)):
            config = config_for(document, run.base_url, keys, seeded, admin_pass=admin_pass,
                                max_examples=MAX_EXAMPLES)
            run_pass(document, config, tally, pass_name)
    finally:
        run.stop()
    report = _report(tally)
    with capsys.disabled():
        print("\n" + report)
    secrets = list(keys.values())
    problems = [_masked(problem, secrets)[:MAX_PROBLEM_CHARS] for problem in tally.problems]
    assert not problems, "\n\n".join(problems)
    operations = {label.rsplit(" [", 1)[0] for label in tally.requests}
    documented = {f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item}
    assert operations == documented, documented - operations
    assert tally.total >= MIN_REQUESTS, report
    fixed = _without_inputs(document)
    thin = {label: count for label, count in tally.requests.items()
            if count < (MIN_PER_FIXED_OPERATION if label.rsplit(" [", 1)[0] in fixed else MIN_PER_OPERATION)}
    assert not thin, thin


def test_each_operation_gets_the_key_of_its_role():
    document = {"paths": {
        "/public": {"get": {"operationId": "public"}},
        "/form": {"post": {"operationId": "form", "x-roles": ["widget", "admin"]}},
        "/staff": {"get": {"operationId": "staff", "x-roles": ["agent", "admin"]}},
        "/admin": {"get": {"operationId": "admin", "x-roles": ["admin"]}},
    }}
    keys = {"widget": "lv.w", "agent": "lv.g", "admin": "lv.a"}
    least = {op["include-operation-id"]: op for op in config_for(document, "http://x", keys, Seeded(), admin_pass=False,
                                                                 max_examples=1)["operations"]}
    assert least["public"] == {"include-operation-id": "public", "enabled": True}
    assert least["form"]["headers"] == {"Authorization": "Bearer lv.w", "Origin": "http://x"}
    assert least["staff"]["headers"] == {"Authorization": "Bearer lv.g"}
    assert least["admin"]["headers"] == {"Authorization": "Bearer lv.a"}
    admin = {op["include-operation-id"]: op for op in config_for(document, "http://x", keys, Seeded(), admin_pass=True,
                                                                 max_examples=1)["operations"]}
    assert admin["form"]["headers"] == admin["staff"]["headers"] == {"Authorization": "Bearer lv.a"}
    assert admin["public"]["enabled"] is False and admin["admin"]["enabled"] is False


def _without_inputs(document: dict) -> set[str]:
    """The operations that take no parameter and no body ("GET /v1/webhooks")."""
    return {f"{method.upper()} {path}" for path, item in document["paths"].items() for method, operation in item.items()
            if not operation.get("parameters") and "requestBody" not in operation}


def test_operations_without_inputs_are_told_apart():
    document = {"paths": {"/a": {"get": {}, "post": {"requestBody": {}}}, "/b": {"get": {"parameters": [{}]}}}}
    assert _without_inputs(document) == {"GET /a"}


def _report(tally: Tally) -> str:
    lines = [f"{count:6d}  {label} ({tally.successes[label]} 2xx)" for label, count in sorted(tally.requests.items())]
    statuses = ", ".join(f"{name}: {count}" for name, count in sorted(tally.statuses.items()))
    return "\n".join(["schemathesis requests per operation [key]:", *lines,
                      f"{tally.total:6d}  in total ({statuses}) in {tally.seconds:.0f} s"])


def _masked(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "lv.[key]")
    return text
