"""Settings every test shares: the test stage, dummy AWS credentials, files under a temp dir."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from chalicelib.runtime import LocalContext


@pytest.fixture(autouse=True)
def test_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    for name in ("AWS_PROFILE", "LEADVAULT_KMS_KEY_ID", "LEADVAULT_NOW", "DYNAMODB_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LEADVAULT_STAGE", "test")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("LEADVAULT_TABLE_PREFIX", f"t{uuid.uuid4().hex[:8]}-")
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
    answer = operator("admin_create_tenant", {"name": "Acme Leads", "default_region": "IN"})
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
