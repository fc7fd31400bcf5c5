"""``GET /v1/openapi.json``: the OpenAPI 3.1 document, built from the models kept beside the routes.

Request bodies come from the pydantic models the services validate with, responses from the models in
:mod:`chalicelib.api.responses`, and the operations from :data:`chalicelib.api.operations.OPERATIONS`,
so the document cannot drift from the code; tests hold its paths against the app's routes and the
routes' answers against it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalice import Blueprint

from chalicelib.api.endpoint import Call, endpoint

openapi = Blueprint(__name__)

ERROR_REF = {"$ref": "#/components/schemas/Error"}
JSON = "application/json"


def preflight_headers(path: str) -> list[dict[str, Any]]:
    """What a browser's CORS preflight carries: the page's origin and the method it means to use."""
    from chalicelib.api.web import BROWSER_ROUTES

    return [
        {"name": "Origin", "in": "header", "required": True, "schema": {"type": "string", "maxLength": 255},
         "description": "Answered only when a live widget key allows it", "example": "https://shop.example.com"},
        {"name": "Access-Control-Request-Method", "in": "header", "required": True,
         "schema": {"type": "string", "enum": list(BROWSER_ROUTES[path])}},
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


def _parameters(path: str, method: str, operation: Any) -> list[dict[str, Any]]:
    from chalicelib.api.openapi_parts import IDEMPOTENCY_KEY, QUERY

    parameters = [{"name": part.strip("{}"), "in": "path", "required": True, "schema": {"type": "string"}}
                  for part in path.split("/") if part.startswith("{")]
    parameters += [QUERY[name][0] for name in operation.query]
    if method == "post" and operation.roles:
        parameters.append(IDEMPOTENCY_KEY)
    if method == "options":
        parameters += preflight_headers(path)
    return parameters


def _responses(path: str, method: str, operation: Any, schemas: _Schemas) -> dict[str, Any]:
    from chalicelib.api.openapi_parts import implied_errors

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
    if operation.produces:
        success["links"] = _links(path, operation.produces)
    responses: dict[str, Any] = {str(status): success for status in (operation.status, *operation.also)}
    for status in sorted(implied_errors(path, method, operation.roles, operation.query) | set(operation.errors)):
        responses[str(status)] = {"$ref": f"#/components/responses/Error{status}"}
    return responses


def _links(source_path: str, names: tuple[str, ...]) -> dict[str, Any]:
    """Where the ids this operation answers with lead: every operation with that path parameter."""
    from chalicelib.api.operations import OPERATIONS

    return {target.operation_id: {"operationId": target.operation_id,
                                  "parameters": {name: f"$response.body#/{name}"}}
            for name in names for (path, method), target in OPERATIONS.items()
            if f"{{{name}}}" in path and path != source_path and method != "options"}


def _operation(path: str, method: str, operation: Any, schemas: _Schemas) -> dict[str, Any]:
    document: dict[str, Any] = {"operationId": operation.operation_id, "summary": operation.summary,
                                "security": [{"apiKey": []}] if operation.roles else []}
    if operation.roles:
        document["x-roles"] = list(operation.roles)
    parameters = _parameters(path, method, operation)
    if parameters:
        document["parameters"] = parameters
    if operation.request:
        document["requestBody"] = {"required": True,
                                   "content": {JSON: {"schema": schemas.ref(operation.request, "validation")}}}
    document["responses"] = _responses(path, method, operation, schemas)
    return document


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    """The whole document (built once per process: it depends only on code)."""
    from chalicelib.api.openapi_parts import ERRORS, HEADERS, SECURITY_SCHEMES
    from chalicelib.api.operations import OPERATIONS

    schemas = _Schemas()
    schemas.ref("chalicelib.api.responses.common:Error", "serialization")
    paths: dict[str, dict[str, Any]] = {}
    for (path, method), operation in OPERATIONS.items():
        paths.setdefault(path, {})[method] = _operation(path, method, operation, schemas)
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


@endpoint(openapi, "/v1/openapi.json", roles=None)
def get_openapi(call: Call) -> dict[str, Any]:
    return document()
