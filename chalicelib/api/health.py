"""``GET /v1/health``: no key, no data, no dependency called."""

from __future__ import annotations

from chalicelib.api.endpoint import ApiBlueprint, Call, endpoint
from chalicelib.api.operations import Operation

health = ApiBlueprint(__name__)


@endpoint(health, Operation("GET /v1/health", "getHealth", "Liveness", None, "chalicelib.api.responses.common:Health"))
def get_health(call: Call) -> dict[str, str]:
    return {"status": "ok"}
