"""``GET /v1/me``: lets a client check its key (role, tenant) without touching personal data."""

from __future__ import annotations

from chalicelib.api.endpoint import ApiBlueprint, Call, endpoint
from chalicelib.api.operations import ANY_KEY, Operation

me = ApiBlueprint(__name__)


@endpoint(me, Operation("GET /v1/me", "getMe", "The caller's key: tenant, role, agent", ANY_KEY,
                        "chalicelib.api.responses.common:Me"))
def get_me(call: Call) -> dict[str, str | None]:
    caller = call.caller
    return {"key_id": caller.key_id, "tenant_id": caller.tenant_id, "role": caller.role, "agent_id": caller.agent_id}
