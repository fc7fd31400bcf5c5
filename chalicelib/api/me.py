"""``GET /v1/me``: lets a client check its key (role, tenant) without touching personal data."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.api.endpoint import Call, endpoint

me = Blueprint(__name__)


@endpoint(me, "/v1/me")
def get_me(call: Call) -> dict[str, str | None]:
    caller = call.caller
    return {"key_id": caller.key_id, "tenant_id": caller.tenant_id, "role": caller.role, "agent_id": caller.agent_id}
