"""``GET /v1/brand``: how the tenant appears to people, for the hosted pages and the widget."""

from __future__ import annotations

from typing import Any

from chalicelib.api.endpoint import ApiBlueprint, Call, endpoint
from chalicelib.api.operations import ANY_KEY, Operation

brand = ApiBlueprint(__name__)


@endpoint(brand, Operation(
    "GET /v1/brand", "getBrand",
    "The tenant's display name, accent colour, logo and grievance officer, for pages and the widget", ANY_KEY,
    "chalicelib.api.responses.brand:Brand", browser=True))
def get_brand(call: Call) -> Any:
    from chalicelib.services.tenants.brand import public_brand

    return public_brand(call.caller)
