"""The API's resources: their blueprints in registration order, with the CORS preflights derived from them.

Every route here is declared once, by the ``Operation`` its handler is registered with. The OpenAPI
document's own route is added on top by :mod:`chalicelib.api.openapi`, which reads these: the module
that serves the document has to see every route, so it cannot be one this module imports.
"""

from __future__ import annotations

from collections.abc import Iterable

from chalicelib.api.brand import brand
from chalicelib.api.endpoint import ApiBlueprint
from chalicelib.api.field_work import field_work
from chalicelib.api.grievances import grievances
from chalicelib.api.health import health
from chalicelib.api.leads import leads
from chalicelib.api.me import me
from chalicelib.api.operations import Operation
from chalicelib.api.policies import policies
from chalicelib.api.preflight import preflights
from chalicelib.api.reports import reports
from chalicelib.api.rights import rights
from chalicelib.api.web import web
from chalicelib.api.webhooks import webhooks

RESOURCES: tuple[ApiBlueprint, ...] = (health, me, leads, field_work, rights, grievances, brand, policies, reports,
                                        webhooks, web)
BLUEPRINTS: tuple[ApiBlueprint, ...] = (
    *RESOURCES, preflights(operation for blueprint in RESOURCES for operation in blueprint.operations))


def operations_table(blueprints: Iterable[ApiBlueprint]) -> dict[tuple[str, str], Operation]:
    """``(path, method) -> Operation`` of every declared route; a route or operation id declared twice is refused."""
    table: dict[tuple[str, str], Operation] = {}
    ids: set[str] = set()
    for blueprint in blueprints:
        for operation in blueprint.operations:
            if operation.key in table or operation.operation_id in ids:
                raise ValueError(f"{operation.route} ({operation.operation_id}) is declared twice")
            table[operation.key] = operation
            ids.add(operation.operation_id)
    return table
