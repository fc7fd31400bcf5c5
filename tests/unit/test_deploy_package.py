"""`chalice package` with the merge template gives the template we meant, and `deploy.check` notices when not.

`make lint-deploy` runs the same check and cfn-lint on both stages; this shows the check can fail.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from deploy.check import problems
from deploy.stages import ROOT, stage


@pytest.fixture(scope="module")
def packaged(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("package") / "dev"
    chalice = Path(sys.executable).parent / "chalice"
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    subprocess.run([str(chalice), "package", "--stage", "dev", "--merge-template", "deploy/templates/dev.json",
                    str(out)], cwd=ROOT, env=env, check=True, capture_output=True, timeout=600)
    return json.loads((out / "sam.json").read_text())


def broken(template: dict, change) -> list[str]:
    copied = copy.deepcopy(template)
    change(copied["Resources"])
    return problems(copied, stage("dev"))


def test_packaged_template_has_every_function_role_schedule_and_table(packaged):
    assert problems(packaged, stage("dev")) == []
    resources = packaged["Resources"]
    assert "DefaultRole" not in resources  # autogen_policy is off: one hand-written role per function
    assert resources["PurgeExpired"]["Properties"]["Events"]["PurgeExpiredEvent"] == {
        "Type": "Schedule", "Properties": {"Schedule": "rate(1 hour)"}}


def test_the_gateway_responses_and_throttling_land_on_chalices_rest_api(packaged):
    api = packaged["Resources"]["RestAPI"]
    assert api["Type"] == "AWS::Serverless::Api" and "DefinitionBody" in api["Properties"]  # merged, not a new one
    assert api["Properties"]["GatewayResponses"]["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == "404"
    assert api["Properties"]["MethodSettings"] == [{
        "ResourcePath": "/*", "HttpMethod": "*", "ThrottlingRateLimit": {"Ref": "ThrottleRate"},
        "ThrottlingBurstLimit": {"Ref": "ThrottleBurst"}}]
    assert {"ThrottleRate", "ThrottleBurst"} <= set(packaged["Parameters"])


@pytest.mark.parametrize(("change", "expected"), [
    (lambda r: r["PrivacyWorker"]["Properties"].pop("FunctionName"), "PrivacyWorker: FunctionName"),
    (lambda r: r["DispatchNotifications"]["Properties"]["Events"]["DispatchNotificationsEvent"]["Properties"]
     .update(Schedule="rate(1 hour)"), "DispatchNotifications: schedules"),
    (lambda r: r["APIHandler"]["Properties"].update(Timeout=60), "APIHandler: timeout 60s"),
    (lambda r: r["PurgeExpired"]["Properties"].update(Timeout=30), "PurgeExpired: timeout 30s"),
    (lambda r: r["AdminCreateTenantRole"]["Properties"].update(
        Policies=r["ApiHandlerRole"]["Properties"]["Policies"]), "AdminCreateTenant: role"),
    (lambda r: r.pop("InboxTable"), "tables differ"),
    (lambda r: r["APIHandler"]["Properties"]["Environment"]["Variables"].update(
        LEADVAULT_TABLE_PREFIX="leadvault-prod-"), "APIHandler: LEADVAULT_TABLE_PREFIX"),
    (lambda r: r["MasterKeyAlias"]["Properties"].update(AliasName="alias/other"), "KMS aliases"),
    (lambda r: r["RestAPI"]["Properties"].pop("GatewayResponses"), "RestAPI: gateway responses"),
    (lambda r: r.update(Api=r.pop("RestAPI")), "RestAPI: not Chalice's REST API"),
])
def test_check_reports_what_is_wrong(packaged, change, expected):
    found = broken(packaged, change)
    assert any(problem.startswith(expected) for problem in found), found
