"""Checks on the template ``chalice package`` produced, beyond what cfn-lint knows about this app.

    python -m deploy.check build/package-prod/sam.json --stage prod

cfn-lint proves the template is valid CloudFormation; this proves it is the one we meant:
each function named as the CLI expects, with its own role carrying its own policy file, its
schedule or its trigger on the events table's stream, sane timeouts, and the stage's table prefix
and key alias, next to every table; and the gateway responses on Chalice's own REST API.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from deploy.functions import app_functions
from deploy.generate import policy_file
from deploy.stages import ROOT, Stage, stage
from deploy.tables import logical_id
from deploy.template import EVENTS_TABLE, REST_API_ID, gateway_responses

API_GATEWAY_LIMIT_S = 29
EVENTS_STREAM_TABLE = logical_id(EVENTS_TABLE)
MIN_JOB_TIMEOUT_S = 60


def _function_problems(template: dict[str, Any], deployed: Stage) -> list[str]:
    resources = template["Resources"]
    problems = []
    for function in app_functions():
        resource = resources.get(function.logical_id, {})
        props = resource.get("Properties", {})
        where = f"{function.logical_id}:"
        if resource.get("Type") != "AWS::Serverless::Function":
            problems.append(f"{where} missing, or not a function")
            continue
        if props.get("FunctionName") != deployed.function_name(function.name):
            problems.append(f"{where} FunctionName is {props.get('FunctionName')!r}")
        role_id = (props.get("Role", {}).get("Fn::GetAtt") or [None])[0]
        role = resources.get(role_id, {}).get("Properties", {})
        documents = [policy["PolicyDocument"] for policy in role.get("Policies", [])]
        wanted = json.loads((ROOT / ".chalice" / policy_file(deployed.name, function.name)).read_text())
        if documents != [wanted]:
            problems.append(f"{where} role {role_id} does not carry exactly its policy file")
        timeout = int(props.get("Timeout", 0))
        if function.kind == "api" and timeout > API_GATEWAY_LIMIT_S:
            problems.append(f"{where} timeout {timeout}s exceeds API Gateway's {API_GATEWAY_LIMIT_S}s")
        if function.kind == "schedule":
            if timeout < MIN_JOB_TIMEOUT_S:
                problems.append(f"{where} timeout {timeout}s is under {MIN_JOB_TIMEOUT_S}s")
            schedules = [event.get("Properties", {}).get("Schedule") for event in props.get("Events", {}).values()
                         if event.get("Type") == "Schedule"]
            if schedules != [function.schedule]:
                problems.append(f"{where} schedules {schedules}, expected [{function.schedule!r}]")
        if function.kind == "stream":
            streams = [event.get("Properties", {}) for event in props.get("Events", {}).values()
                       if event.get("Type") == "DynamoDB"]
            if [stream.get("Stream") for stream in streams] != [{"Fn::GetAtt": [EVENTS_STREAM_TABLE, "StreamArn"]}]:
                problems.append(f"{where} not triggered by the events table's stream alone")
        env = props.get("Environment", {}).get("Variables", {})
        if env.get("LEADVAULT_TABLE_PREFIX") != deployed.table_prefix:
            problems.append(f"{where} LEADVAULT_TABLE_PREFIX is {env.get('LEADVAULT_TABLE_PREFIX')!r}")
        if env.get("LEADVAULT_KMS_KEY_ID") != deployed.kms_alias:
            problems.append(f"{where} LEADVAULT_KMS_KEY_ID is {env.get('LEADVAULT_KMS_KEY_ID')!r}")
    return problems


def problems(template: dict[str, Any], deployed: Stage) -> list[str]:
    """Everything wrong with a packaged template for this stage (empty when it is right)."""
    from chalicelib.store.binding import all_models

    resources = template.get("Resources", {})
    found = _function_problems(template, deployed)
    roles = [name for name, r in resources.items() if r.get("Type") == "AWS::IAM::Role"]
    if len(roles) != len(app_functions()):
        found.append(f"{len(roles)} roles for {len(app_functions())} functions: one role per function expected")
    tables = {r["Properties"]["TableName"] for r in resources.values() if r.get("Type") == "AWS::DynamoDB::Table"}
    wanted_tables = {deployed.table_prefix + model.table_suffix for model in all_models()}
    if tables != wanted_tables:
        found.append(f"tables differ from the models: extra {sorted(tables - wanted_tables)}, "
                     f"missing {sorted(wanted_tables - tables)}")
    aliases = [r["Properties"]["AliasName"] for r in resources.values() if r.get("Type") == "AWS::KMS::Alias"]
    if aliases != [deployed.kms_alias]:
        found.append(f"KMS aliases {aliases}, expected [{deployed.kms_alias!r}]")
    api = resources.get(REST_API_ID, {})
    if api.get("Type") != "AWS::Serverless::Api":
        found.append(f"{REST_API_ID}: not Chalice's REST API, so its gateway responses and throttling went elsewhere")
    elif api["Properties"].get("GatewayResponses") != gateway_responses():
        found.append(f"{REST_API_ID}: gateway responses differ from deploy.template.gateway_responses()")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.check", description=__doc__.splitlines()[0])
    parser.add_argument("template", type=Path)
    parser.add_argument("--stage", required=True)
    args = parser.parse_args(argv)
    found = problems(json.loads(args.template.read_text()), stage(args.stage))
    for problem in found:
        print(f"{args.template}: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
