"""The CLI on the `local` stage finds `make run`'s DynamoDB Local by default, and says plainly when it cannot."""

from __future__ import annotations

import json
import time

import pytest

from chalicelib import cli, config
from devtools.dynamodb_local import free_port


@pytest.fixture(autouse=True)
def logs_stay_where_they_were(monkeypatch):
    """``cli.main`` sends the process's logs to stderr; later tests in the worker read them on stdout."""
    from chalicelib import logs

    monkeypatch.setitem(logs._STREAM, "name", logs._STREAM["name"])


def test_the_local_stage_defaults_to_the_local_runs_endpoint_and_other_stages_to_aws(monkeypatch):
    monkeypatch.delenv("DYNAMODB_ENDPOINT_URL", raising=False)
    assert config.get_settings({"LEADVAULT_STAGE": "local"}).dynamodb_endpoint_url == "http://127.0.0.1:8001"
    assert config.get_settings({}).dynamodb_endpoint_url == "http://127.0.0.1:8001"  # local is the default stage
    assert config.get_settings({"LEADVAULT_STAGE": "test"}).dynamodb_endpoint_url is None
    assert config.get_settings({"LEADVAULT_STAGE": "local", "DYNAMODB_ENDPOINT_URL": "http://127.0.0.1:9"}
                               ).dynamodb_endpoint_url == "http://127.0.0.1:9"


def run_cli(capsys, argv):
    started = time.monotonic()
    status = cli.main(argv)
    return status, json.loads(capsys.readouterr().out), time.monotonic() - started


@pytest.mark.parametrize("argv", [["init"], ["invoke", "admin_create_tenant", '{"name": "A", "default_region": "IN"}'],
                                  ["run-job", "purge_expired"], ["reindex-origins"]])
def test_a_wrong_endpoint_is_named_with_what_to_do_not_an_internal_error(monkeypatch, capsys, argv):
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    monkeypatch.setenv("DYNAMODB_ENDPOINT_URL", endpoint)
    status, answer, seconds = run_cli(capsys, argv)
    assert status == 2
    assert answer["error"]["code"] == "dynamodb_unreachable"
    assert endpoint in answer["error"]["message"] and "make run" in answer["error"]["message"]
    assert seconds < 5  # said at once, not after the SDK's retries


def test_no_endpoint_on_the_local_stage_means_make_runs_default_and_is_named_when_it_is_down(monkeypatch, capsys):
    endpoint = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setattr(config, "LOCAL_DYNAMODB_ENDPOINT", endpoint)  # the default port may be in use on this machine
    monkeypatch.delenv("DYNAMODB_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("LEADVAULT_STAGE", "local")
    status, answer, _seconds = run_cli(capsys, ["invoke", "admin_policy_status", '{"policy_id": "pol_x"}'])
    assert status == 2 and answer["error"]["code"] == "dynamodb_unreachable"
    assert endpoint in answer["error"]["message"] and "stage local" in answer["error"]["message"]


def test_a_connection_lost_midway_is_said_the_same_way(monkeypatch, capsys):
    from botocore.exceptions import EndpointConnectionError

    endpoint = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("DYNAMODB_ENDPOINT_URL", endpoint)
    monkeypatch.setattr(cli, "unreachable_endpoint", lambda: None)  # it answered the probe, then went away

    def lost(_args):
        try:
            raise EndpointConnectionError(endpoint_url=endpoint)
        except EndpointConnectionError as error:
            raise RuntimeError("Unable to describe table") from error  # as PynamoDB wraps it

    parser = cli.build_parser
    monkeypatch.setattr(cli, "build_parser", lambda: _with_command(parser(), lost))
    status, answer, _seconds = run_cli(capsys, ["init"])
    assert status == 2 and answer["error"]["code"] == "dynamodb_unreachable" and endpoint in answer["error"]["message"]


def _with_command(parser, run):
    parser.set_defaults(run=run)
    for action in parser._subparsers._group_actions:  # the sub-commands carry their own default
        for sub in action.choices.values():
            sub.set_defaults(run=run)
    return parser
