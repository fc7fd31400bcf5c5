"""Settings every test shares: the test stage, dummy AWS credentials, files under a temp dir."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalicelib.runtime import LocalContext


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[Any]:
    """One DynamoDB Local for the session (in memory, a free port), shared by integration and chaos tests."""
    from devtools.dynamodb_local import DynamoDBLocal, free_port

    engine = DynamoDBLocal(port=free_port()).start()
    try:
        yield engine
    finally:
        engine.stop()


@pytest.fixture(scope="session")
def session_table_prefix() -> str:
    """The prefix of the tables made once per session (per xdist worker) and emptied before each test.

    A test that uses the ``tables`` fixture runs on them; any other test gets a prefix of its own,
    so the tables it makes (``cli init``, say) are new to it, as they were when every test made its own.
    """
    return f"t{uuid.uuid4().hex[:8]}-"


@pytest.fixture(autouse=True)
def test_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, request: pytest.FixtureRequest,
                     session_table_prefix: str) -> Iterator[Path]:
    for name in ("AWS_PROFILE", "LEADVAULT_KMS_KEY_ID", "LEADVAULT_NOW", "DYNAMODB_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LEADVAULT_STAGE", "test")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    # Decided here, before anything reads it (the permission recorder below maps it to the deployed prefix).
    shared = "tables" in request.fixturenames
    monkeypatch.setenv("LEADVAULT_TABLE_PREFIX", session_table_prefix if shared else f"t{uuid.uuid4().hex[:8]}-")
    monkeypatch.setenv("LEADVAULT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LEADVAULT_MASTER_KEY_FILE", str(tmp_path / "data" / "master.key"))
    monkeypatch.setenv("LEADVAULT_OUTBOX_DIR", str(tmp_path / "data" / "outbox"))
    yield tmp_path


@pytest.fixture
def operator():
    """Call an operator function as the console or the CLI would."""
    from chalicelib.admin import invoke_operator

    def call(name: str, payload: object) -> dict:
        return invoke_operator(name, payload, LocalContext(name))

    return call


@pytest.fixture
def tenant(tables, operator) -> str:
    from tests.support.published import publish_versions

    answer = operator("admin_create_tenant", {"name": "Acme Leads", "default_region": "IN"})
    publish_versions(answer["tenant_id"])  # the versions the tests' consents name
    return answer["tenant_id"]


@pytest.fixture
def issue_key(operator, tenant):
    """Issue a key of a role for the default tenant (or another); returns the answer dict."""

    def issue(role: str, tenant_id: str | None = None, **extra: object) -> dict:
        answer = operator("admin_issue_api_key", {"tenant_id": tenant_id or tenant, "role": role, **extra})
        assert "api_key" in answer, answer
        return answer

    return issue


@pytest.fixture
def widget(issue_key) -> dict:
    return issue_key("widget")


@pytest.fixture
def admin(issue_key) -> dict:
    return issue_key("admin")


@pytest.fixture(autouse=True)
def deployed_permissions(test_environment) -> Iterator[None]:
    """Every AWS call a deployed function makes in any test must be allowed by its IAM policy file.

    Tests run the functions' real code paths; this holds each call (DynamoDB, KMS through the
    local master key, SES and SNS through the outbox) against ``.chalice/policies/dev/<function>.json``.
    """
    from deploy.access import ACCESS
    from deploy.stages import stage
    from tests.support.aws_access import recording
    from tests.support.iam import denied

    with recording(os.environ["LEADVAULT_TABLE_PREFIX"], stage("dev").table_prefix) as recorder:
        yield
    unknown = sorted({request.function for request in recorder.requests} - set(ACCESS))
    assert not unknown, f"functions without an IAM policy: {unknown} (add them to deploy/access.py)"
    refused = "\n".join(f"  {r.function}: {r.action} on {r.resource} {dict(r.context)}"
                        for r in denied("dev", recorder.requests))
    assert not refused, "IAM policies refuse calls the code makes (fix deploy/access.py, then run " \
                        f"python -m deploy.generate):\n{refused}"
