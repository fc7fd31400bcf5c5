"""``GET /v1/openapi.json``: the OpenAPI 3.1 document, built from the models kept beside the routes.

Request bodies come from the pydantic models the services validate with, responses from the models in
:mod:`chalicelib.api.responses`, and the operations from :data:`OPERATIONS`: the same ``Operation``
declarations the router registers, so the document cannot drift from the code; tests hold its paths
against the app's routes and the routes' answers against it. The document describes its own route too,
so this module composes the whole API (:data:`API`, which ``app.py`` registers) from the resources.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalicelib.api.endpoint import ApiBlueprint, Call, endpoint
from chalicelib.api.operations import Operation
from chalicelib.api.routes import BLUEPRINTS, operations_table

openapi = ApiBlueprint(__name__)

ERROR_REF = {"$ref": "#/components/schemas/Error"}
JSON = "application/json"


def preflight_headers(methods: tuple[str, ...]) -> list[dict[str, Any]]:
    """What a browser's CORS preflight carries: the page's origin and the method it means to use."""
    return [
        {"name": "Origin", "in": "header", "required": True, "schema": {"type": "string", "maxLength": 255},
         "description": "Answered only when a live widget key allows it", "example": "https://shop.example.com"},
        {"name": "Access-Control-Request-Method", "in": "header", "required": True,
         "schema": {"type": "string", "enum": list(methods)}},
    ]


class _Schemas:
    """``components.schemas``: one schema per model name; two different models may not share a name."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}

    def ref(self, target: str, mode: str) -> dict[str, str]:
        from pydantic import BaseModel

        from chalicelib.runtime import resolve

        model = resolve(target)
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise TypeError(f"{target} is not a pydantic model")
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode=mode)  # type: ignore[arg-type]
        for name, part in {**schema.pop("$defs", {}), model.__name__: schema}.items():
            if self.schemas.setdefault(name, part) != part:
                raise ValueError(f"two different schemas are named {name}")
        return {"$ref": f"#/components/schemas/{model.__name__}"}


def _parameters(operation: Operation) -> list[dict[str, Any]]:
    from chalicelib.api.openapi_parts import IDEMPOTENCY_KEY, QUERY

    path, method = operation.key
    parameters = [{"name": part.strip("{}"), "in": "path", "required": True, "schema": {"type": "string"}}
                  for part in path.split("/") if part.startswith("{")]
    parameters += [QUERY[name][0] for name in operation.query]
    if method == "post" and operation.roles:
        parameters.append(IDEMPOTENCY_KEY)
    if method == "options":
        parameters += preflight_headers(operation.allows)
    return parameters


def _responses(operation: Operation, schemas: _Schemas) -> dict[str, Any]:
    from chalicelib.api.openapi_parts import implied_errors

    path, method = operation.key
    response = operation.response
    success: dict[str, Any] = {"description": "Success"}
    if response is not None:
        body = response if isinstance(response, dict) else schemas.ref(response, "serialization")
        success["content"] = {operation.content_type: {"schema": body}}
    if operation.cache_control == "no-store":
        success["headers"] = {"Cache-Control": {"$ref": "#/components/headers/CacheControl"}}
    elif operation.cache_control:
        success["headers"] = {"Cache-Control": {"required": True, "schema": {"type": "string",
                                                                            "const": operation.cache_control}}}
    if operation.headers:
        success["headers"] = {**success.get("headers", {}), **dict(operation.headers)}
    if operation.produces:
        success["links"] = _links(path, operation.produces)
    responses: dict[str, Any] = {str(status): success for status in (operation.status, *operation.also)}
    for status in sorted(implied_errors(path, method, operation.roles, operation.query) | set(operation.errors)):
        responses[str(status)] = {"$ref": f"#/components/responses/Error{status}"}
    return responses


def _links(source_path: str, names: tuple[str, ...]) -> dict[str, Any]:
    """Where the ids this operation answers with lead: every operation with that path parameter."""
    return {target.operation_id: {"operationId": target.operation_id,
                                  "parameters": {name: f"$response.body#/{name}"}}
            for name in names for (path, method), target in OPERATIONS.items()
            if f"{{{name}}}" in path and path != source_path and method != "options"}


def _operation(operation: Operation, schemas: _Schemas) -> dict[str, Any]:
    document: dict[str, Any] = {"operationId": operation.operation_id, "summary": operation.summary,
                                "security": [{"apiKey": []}] if operation.roles else []}
    if operation.roles:
        document["x-roles"] = list(operation.roles)
    parameters = _parameters(operation)
    if parameters:
        document["parameters"] = parameters
    if operation.request:
        document["requestBody"] = {"required": True,
                                   "content": {JSON: {"schema": schemas.ref(operation.request, "validation")}}}
    document["responses"] = _responses(operation, schemas)
    return document


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    """The whole document (built once per process: it depends only on code)."""
    from chalicelib.api.openapi_parts import ERRORS, HEADERS, SECURITY_SCHEMES

    schemas = _Schemas()
    schemas.ref("chalicelib.api.responses.common:Error", "serialization")
    paths: dict[str, dict[str, Any]] = {}
    for (path, method), operation in OPERATIONS.items():
        paths.setdefault(path, {})[method] = _operation(operation, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": "LeadVault", "version": "1.0.0",
                 "description": "Privacy-first lead capture and call tracking. "
                                "Every error is {\"error\": {\"code\", \"message\", \"details\"?}}."},
        "paths": paths,
        "components": {
            "schemas": schemas.schemas,
            "responses": {f"Error{status}": {"description": text, "content": {JSON: {"schema": ERROR_REF}}}
                          for status, text in ERRORS.items()},
            "headers": HEADERS,
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


@endpoint(openapi, Operation("GET /v1/openapi.json", "getOpenApi", "This document", None,
                             {"type": "object", "required": ["openapi", "info", "paths"]}))
def get_openapi(call: Call) -> dict[str, Any]:
    return document()


API: tuple[ApiBlueprint, ...] = (*BLUEPRINTS, openapi)  # every route the app serves
OPERATIONS = operations_table(API)  # (path, method) -> its one declaration
