"""The one wrapper every route goes through: scope, auth, body parsing, error mapping, logs."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalice import Blueprint, Response

from chalicelib import invocation
from chalicelib.api.operations import ANY_KEY, Operation
from chalicelib.errors import InternalError, LeadVaultError
from chalicelib.logs import get_logger, log_exception

ALL_ROLES = ANY_KEY
JSON_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-store"}


@dataclass
class Call:
    """What a handler gets: the caller, the parsed body and query, and the raw headers it may need."""

    caller: Any
    body: dict[str, Any] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    source_ip: str | None = None


def json_response(body: Any, status: int = 200) -> Response:
    return Response(body=body, status_code=status, headers=dict(JSON_HEADERS))


def error_response(error: LeadVaultError) -> Response:
    response = json_response(error.to_body(), error.status)
    retry_after = getattr(error, "retry_after", None)
    if retry_after:
        response.headers["Retry-After"] = str(int(retry_after))
    return response


class ApiBlueprint(Blueprint):
    """A blueprint that keeps the operations declared on it: the operations table and the document read them."""

    def __init__(self, import_name: str) -> None:
        super().__init__(import_name)
        self.operations: list[Operation] = []


def endpoint(
    blueprint: Blueprint,
    operation: Operation | str,
    methods: tuple[str, ...] = ("GET",),
    roles: tuple[str, ...] | None = ALL_ROLES,
    replay: str = "endpoint",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a view from its one declaration, an :class:`Operation` (path, method, roles, replay, docs).

    The API's routes always pass an ``Operation`` on an :class:`ApiBlueprint`. A bare path with ``methods``,
    ``roles`` and ``replay`` registers an undocumented route; it is kept for test probes of this wrapper, and
    the app's tests hold its routes equal to the document's, so none of the app's can be undocumented.
    """
    if isinstance(operation, Operation):
        if (methods, roles, replay) != (("GET",), ALL_ROLES, "endpoint"):
            raise TypeError(f"{operation.operation_id}: methods, roles and replay come from the Operation")
        if isinstance(blueprint, ApiBlueprint):
            blueprint.operations.append(operation)
        return _route(blueprint, operation.path, (operation.method,), operation.roles, operation.replay)
    return _route(blueprint, operation, methods, roles, replay)


def _route(
    blueprint: Blueprint, path: str, methods: tuple[str, ...], roles: tuple[str, ...] | None, replay: str,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wrap a handler and register it with Chalice. ``roles=None`` means no key is needed (health, signed links).

    ``Idempotency-Key`` on a POST is honoured here (``replay="endpoint"``), or by the service
    itself when it can fold the record into its own writes (``replay="service"``).
    """

    def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(handler)
        def view(**path_params: str) -> Response:
            request = blueprint.current_request
            started = time.perf_counter()
            caller = None
            with invocation.invocation():
                headers = {name.lower(): value for name, value in (request.headers or {}).items()}
                try:
                    caller = _authenticate(headers, roles)
                    call = _call(request, headers, caller)
                    if replay == "endpoint" and request.method == "POST" and caller is not None:
                        route = f"{request.method} {path} {sorted(path_params.items())}"
                        response = _with_idempotency(call, route, handler, path_params)
                    else:
                        result = handler(call, **path_params)
                        response = result if isinstance(result, Response) else json_response(result)
                except LeadVaultError as error:
                    response = error_response(error)
                except Exception as exc:  # noqa: BLE001 - the contract's 500, logged without input
                    log_exception("unhandled_error", exc, route=path)
                    response = error_response(InternalError())
                _allow_origin(response, caller, headers.get("origin"), roles)
                status = response.status_code
                _log_request(request, path, status, started, caller)
                return response

        blueprint.route(path, methods=list(methods))(view)
        return view

    return decorate


def _with_idempotency(call: Call, route: str, handler: Callable[..., Any], path_params: dict[str, str]) -> Response:
    """Claim the key, run, keep the answer: the first answer for the same key and body, 409 for another
    body or while the first attempt still runs (see :mod:`chalicelib.services.idempotency`)."""
    from chalicelib.services import idempotency
    key = idempotency.idempotency_key(call.caller.tenant_id, call.caller.key_id,
                                      call.headers.get("idempotency-key"), route, call.body)
    responses: list[Response] = []

    def work() -> tuple[int, dict[str, Any]]:
        result = handler(call, **path_params)
        response = result if isinstance(result, Response) else json_response(result)
        responses.append(response)
        # Only JSON objects are kept to replay; any other answer gives the key back (status 0).
        return (response.status_code, response.body) if isinstance(response.body, dict) else (0, {})

    status, body = idempotency.run_once(key, work)
    return responses[0] if responses else json_response(body, status)


def _authenticate(headers: dict[str, str], roles: tuple[str, ...] | None) -> Any:
    """The caller (None on routes without a key), authorised for the route's roles and origin."""
    if roles is None:
        return None
    from chalicelib.services.access.auth import authenticate, authorise
    from chalicelib.services.access.cors import request_origin

    caller = authenticate(headers.get("authorization"))
    authorise(caller, roles, request_origin(headers))
    return caller


def _call(request: Any, headers: dict[str, str], caller: Any) -> Call:
    from chalicelib.api.jsonbody import parse_body

    body = parse_body(request.raw_body) if request.method in ("POST", "PUT", "PATCH") else {}
    identity = (request.context or {}).get("identity") or {}
    return Call(caller=caller, body=body, query=dict(request.query_params or {}), headers=headers,
                source_ip=identity.get("sourceIp"))


def _allow_origin(response: Response, caller: Any, origin: str | None, roles: tuple[str, ...] | None) -> None:
    """CORS for a widget key used from one of its own origins, on successes and errors alike.

    A key refused before it is known (unknown, revoked, wrong origin) still gets the header when
    the origin passes a preflight, so the widget can show why instead of "could not reach".
    """
    if origin is None or not roles or "widget" not in roles:
        return
    from chalicelib.services.access import cors
    if caller is None:
        allowed = cors.preflight_allows(origin) if response.status_code in (401, 403) else None
        if allowed:
            response.headers.update(cors.response_headers(allowed))
        return
    if caller.role == "widget" and caller.allowed_origins and cors.key_allows(caller.allowed_origins, origin):
        response.headers.update(cors.response_headers(cors.normalise(origin) or origin))


def _log_request(request: Any, route: str, status: int, started: float, caller: Any) -> None:
    """One line per request: route template and ids we minted, never paths, queries or bodies."""
    context = request.context or {}
    get_logger().info(
        "request",
        extra={
            "request_id": context.get("requestId"),
            "method": request.method,
            "route": route,
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "tenant_id": getattr(caller, "tenant_id", None),
            "key_id": getattr(caller, "key_id", None),
        },
    )
