"""``GET /v1/openapi.json``: the OpenAPI 3.1 document, built from the request models kept beside the routes.

Request bodies come from the pydantic models the services validate with, so the document cannot
drift from what is accepted; a test holds the document's paths against the app's routes.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalice import Blueprint

from chalicelib.api.endpoint import Call, endpoint
from chalicelib.api.web import BROWSER_ROUTES

openapi = Blueprint(__name__)

ERROR = {"$ref": "#/components/schemas/Error"}
# (path, method) -> (summary, roles or None for no key, request model "module:Class" or None, success status)
OPERATIONS: dict[tuple[str, str], tuple[str, tuple[str, ...] | None, str | None, int]] = {
    ("/v1/health", "get"): ("Liveness", None, None, 200),
    ("/v1/openapi.json", "get"): ("This document", None, None, 200),
    ("/v1/me", "get"): ("The caller's key: tenant, role, agent", ("widget", "agent", "admin"), None, 200),
    ("/v1/leads", "post"): ("Submit a lead (created or merged)", ("widget", "agent", "admin"),
                            "chalicelib.services.leads.inputs:LeadInput", 201),
    ("/v1/leads", "get"): ("List leads (agents: their own)", ("agent", "admin"), None, 200),
    ("/v1/leads/{lead_id}", "get"): ("Read a lead", ("agent", "admin"), None, 200),
    ("/v1/leads/{lead_id}", "patch"): ("Change stage, assignee, fields", ("agent", "admin"),
                                       "chalicelib.services.leads.inputs:LeadPatch", 200),
    ("/v1/leads/{lead_id}/timeline", "get"): ("A lead's events, newest first", ("agent", "admin"), None, 200),
    ("/v1/shifts/start", "post"): ("Punch in", ("agent",), "chalicelib.services.shifts:StartShiftInput", 201),
    ("/v1/shifts/end", "post"): ("Punch out", ("agent",), None, 200),
    ("/v1/calls", "post"): ("Upload call metadata", ("agent",), "chalicelib.services.calls:CallBatchInput", 200),
    ("/v1/agents/{agent_id}/shifts", "get"): ("An agent's shifts", ("admin",), None, 200),
    ("/v1/agents/{agent_id}/calls", "get"): ("An agent's calls", ("admin",), None, 200),
    ("/v1/consents", "post"): ("Record consent choices", ("widget", "admin"),
                               "chalicelib.services.consents:ConsentInput", 201),
    ("/v1/consents", "get"): ("Consent state and history of one person", ("admin",), None, 200),
    ("/v1/preferences", "get"): ("Marketing choices behind a signed link", None, None, 200),
    ("/v1/preferences", "post"): ("Change marketing choices behind a signed link", None,
                                  "chalicelib.services.preferences:PreferencesInput", 200),
    ("/v1/privacy-requests", "post"): ("File an access or erasure request", ("widget", "admin"),
                                       "chalicelib.services.privacy.requests:RequestInput", 202),
    ("/v1/privacy-requests/{request_id}", "get"): ("A request's status and receipt", ("widget", "admin"), None, 200),
    ("/v1/privacy-requests/{request_id}/verify", "post"): ("Verify with the one-time code", ("widget", "admin"),
                                                           "chalicelib.services.privacy.requests:VerifyInput", 200),
    ("/v1/privacy-requests/{request_id}/export", "get"): ("An access request's export", ("widget", "admin"), None,
                                                          200),
    ("/v1/policies/current", "get"): ("The policy version in force", ("widget", "agent", "admin"), None, 200),
    ("/v1/policies/{version}/accept", "post"): ("Accept a policy version", ("agent", "admin"), None, 201),
    ("/v1/notifications", "get"): ("The caller's in-app notices", ("agent", "admin"), None, 200),
    ("/v1/fields", "get"): ("The tenant's declared lead fields, for forms", ("widget", "admin"), None, 200),
    ("/v1/widget.js", "get"): ("The embeddable widget script", None, None, 200),
    ("/v1/pages/privacy", "get"): ("The hosted privacy portal page", None, None, 200),
    ("/v1/pages/preferences", "get"): ("The hosted preferences page", None, None, 200),
}
OPERATIONS.update({(path, "options"): ("CORS preflight: only origins a live widget key allows", None, None, 204)
                   for path in BROWSER_ROUTES})


def _model_schema(target: str) -> dict[str, Any]:
    from chalicelib.runtime import resolve

    return resolve(target).model_json_schema(ref_template="#/components/schemas/{model}")


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    """The whole document (built once per process: it depends only on code)."""
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {"Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string"}, "message": {"type": "string"},
            "details": {"type": "array", "items": {"type": "object"}}}}}}}
    for (path, method), (summary, roles, model, status) in OPERATIONS.items():
        operation: dict[str, Any] = {
            "summary": summary,
            "responses": {str(status): {"description": "Success", "content": {"application/json": {"schema": {}}}},
                          "4XX": {"description": "Contract error", "content": {"application/json": {"schema": ERROR}}}},
        }
        parameters = [{"name": name.strip("{}"), "in": "path", "required": True, "schema": {"type": "string"}}
                      for name in path.split("/") if name.startswith("{")]
        if parameters:
            operation["parameters"] = parameters
        operation["security"] = [{"apiKey": []}] if roles else []
        if roles:
            operation["x-roles"] = list(roles)
        if model:
            schema = _model_schema(model)
            name = model.rsplit(":", 1)[1]
            schemas.update(schema.pop("$defs", {}))
            schemas[name] = schema
            operation["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{name}"}}}}
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "LeadVault", "version": "1.0.0",
                 "description": "Privacy-first lead capture and call tracking. Errors: {error: {code, message}}."},
        "paths": paths,
        "components": {"schemas": schemas,
                       "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer",
                                                      "description": "lv.<tenant_id>.<key_id>.<secret>"}}},
    }


@endpoint(openapi, "/v1/openapi.json", roles=None)
def get_openapi(call: Call) -> dict[str, Any]:
    return document()
