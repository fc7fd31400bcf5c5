"""Operator functions (``@lambda_function``), invoked from the console or the CLI. Thin: they call services.

``OPERATOR_FUNCTIONS`` is the one declaration: each entry becomes a Chalice Lambda function of that name,
the CLI's ``invoke`` and the local runner read the same table, and adding a function is adding an entry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice import Blueprint

from chalicelib.runtime import run_operator

# name -> "module:function" of the service; resolved on call so the app imports fast.
OPERATOR_FUNCTIONS: dict[str, str] = {
    "admin_create_tenant": "chalicelib.services.tenants.setup:create_tenant",
    "admin_issue_api_key": "chalicelib.services.access.api_keys:issue_key",
    "admin_revoke_api_key": "chalicelib.services.access.api_keys:revoke_key",
    "admin_define_fields": "chalicelib.services.leads.fields:define_fields",
    "admin_set_retention": "chalicelib.services.retention.settings:set_retention",
    "admin_legal_hold": "chalicelib.services.retention.settings:legal_hold",
    "admin_publish_policy": "chalicelib.services.policies.publishing:publish_policy",
    "admin_policy_status": "chalicelib.services.policies.publishing:policy_status",
    "admin_set_budgets": "chalicelib.services.access.budgets:set_budgets",
    "admin_set_grievance_officer": "chalicelib.services.rights.grievances.officer:set_grievance_officer",
    "admin_set_tenant_identity": "chalicelib.services.tenants.identity:set_tenant_identity",
}

admin = Blueprint(__name__)


def invoke_operator(name: str, payload: Any, context: Any) -> dict[str, Any]:
    return run_operator(name, OPERATOR_FUNCTIONS[name], payload, context)


def _register(name: str) -> Callable[[Any, Any], dict[str, Any]]:
    """The Lambda function ``name``; Chalice names its handler ``chalicelib.admin.<name>``."""

    def handler(event: Any, context: Any) -> dict[str, Any]:
        return invoke_operator(name, event, context)

    handler.__name__ = handler.__qualname__ = name
    return admin.lambda_function(name=name)(handler)


# Lambda imports this module and looks each handler up by name, so every one is a module attribute.
OPERATOR_HANDLERS: dict[str, Callable[[Any, Any], dict[str, Any]]] = {
    name: _register(name) for name in OPERATOR_FUNCTIONS
}
globals().update(OPERATOR_HANDLERS)
