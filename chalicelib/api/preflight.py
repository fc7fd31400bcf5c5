"""CORS preflights, derived: one per path that has an operation marked ``browser`` (the widget calls it from a
tenant's site), letting through only that path's browser methods and only origins a live widget key allows."""

from __future__ import annotations

from collections.abc import Iterable

from chalice import Response

from chalicelib.api.endpoint import ApiBlueprint, Call, endpoint
from chalicelib.api.operations import Operation

SUMMARY = "CORS preflight: only origins a live widget key allows (403 otherwise)"


def preflights(operations: Iterable[Operation]) -> ApiBlueprint:
    """A blueprint with the preflight of every path the widget calls, with the methods it uses there."""
    methods: dict[str, tuple[str, ...]] = {}
    for operation in operations:
        if operation.browser:
            methods[operation.path] = (*methods.get(operation.path, ()), operation.method)
    blueprint = ApiBlueprint(__name__)
    for path, allowed in methods.items():
        _preflight(blueprint, path, allowed)
    return blueprint


def _preflight(blueprint: ApiBlueprint, path: str, methods: tuple[str, ...]) -> None:
    def answer(call: Call, **_path_params: str) -> Response:
        from chalicelib.services.access import cors

        headers = cors.preflight(call.headers.get("origin"), call.headers.get("access-control-request-method"),
                                 methods)
        return Response(body="", status_code=204, headers=headers)

    # "/v1/privacy-requests/{request_id}": view preflight_v1_privacy_requests__request_id,
    # operation preflightPrivacyRequestsRequestId
    answer.__name__ = "preflight_" + "".join(c if c.isalnum() else "_" for c in path).strip("_")
    name = "".join(part.strip("{}").title().replace("-", "").replace("_", "") for part in path.split("/")[2:])
    endpoint(blueprint, Operation(f"OPTIONS {path}", f"preflight{name}", SUMMARY, None, None, status=204,
                                  errors=(403,), cache_control=None, allows=methods))(answer)
