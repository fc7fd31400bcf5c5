"""Operator functions (``@lambda_function``), invoked from the console or the CLI. Thin: they call services."""

from __future__ import annotations

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
}

admin = Blueprint(__name__)


def invoke_operator(name: str, payload: Any, context: Any) -> dict[str, Any]:
    return run_operator(name, OPERATOR_FUNCTIONS[name], payload, context)


@admin.lambda_function(name="admin_create_tenant")
def admin_create_tenant(event: Any, context: Any) -> dict[str, Any]:
    return invoke_operator("admin_create_tenant", event, context)


@admin.lambda_function(name="admin_issue_api_key")
def admin_issue_api_key(event: Any, context: Any) -> dict[str, Any]:
    return invoke_operator("admin_issue_api_key", event, context)


@admin.lambda_function(name="admin_revoke_api_key")
def admin_revoke_api_key(event: Any, context: Any) -> dict[str, Any]:
    return invoke_operator("admin_revoke_api_key", event, context)


@admin.lambda_function(name="admin_define_fields")
def admin_define_fields(event: Any, context: Any) -> dict[str, Any]:
    return invoke_operator("admin_define_fields", event, context)


@admin.lambda_function(name="admin_set_retention")
def admin_set_retention(event: Any, context: Any) -> dict[str, Any]:
    return invoke_operator("admin_set_retention", event, context)


@admin.lambda_function(name="admin_legal_hold")
def admin_legal_hold(event: Any, context: Any) -> dict[str, Any]:
    return invoke_operator("admin_legal_hold", event, context)


@admin.lambda_function(name="admin_publish_policy")
def admin_publish_policy(event: Any, context: Any) -> dict[str, Any]:
    return invoke_operator("admin_publish_policy", event, context)


@admin.lambda_function(name="admin_policy_status")
def admin_policy_status(event: Any, context: Any) -> dict[str, Any]:
    return invoke_operator("admin_policy_status", event, context)


@admin.lambda_function(name="admin_set_budgets")
def admin_set_budgets(event: Any, context: Any) -> dict[str, Any]:
    return invoke_operator("admin_set_budgets", event, context)
