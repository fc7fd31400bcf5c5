"""``GET /v1/health``: no key, no data, no dependency called."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.endpoint import Call, endpoint

health = Blueprint(__name__)


@endpoint(health, "/v1/health", roles=None)
def get_health(call: Call) -> dict[str, str]:
    return {"status": "ok"}
