"""Pure rules, tested without a database: no moto, no tables, no AWS call (any attempt fails the test)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def deployed_permissions():
    """Overrides the root check of AWS calls against IAM policies: a pure rule makes none (see below)."""
    yield


@pytest.fixture(autouse=True)
def no_aws(monkeypatch):
    import botocore.client

    def refuse(client, operation, params):
        raise AssertionError(f"a pure rule called AWS: {client.meta.service_model.service_name}.{operation}")

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", refuse)
