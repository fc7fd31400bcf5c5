"""moto's state between tests: the session's tables stay (empty), everything else starts over.

Creating the service's tables costs about half a second each on moto, so the unit tests create
them once per session (per xdist worker) and, before each test, drop what the last test left:
every item of those tables, every other table, and the whole state of every other service
(SES's sent messages, SNS's texts, KMS keys...). This reaches into moto's backends (its internals,
kept in this one module): deleting items through the API would cost a scan per table.
"""

from __future__ import annotations

from collections.abc import Collection

from moto.core.base_backend import BackendDict
from moto.core.models import botocore_stubber


def reset_aws(keep_tables: Collection[str]) -> None:
    """Every service as new, except DynamoDB tables named in ``keep_tables``: those stay, with no item."""
    keep = set(keep_tables)
    for service in list(BackendDict._instances):
        if service.service_name != "dynamodb":
            for account in service.values():
                account.reset()
            service.clear()
            continue
        for _account, _region, backend in service.iter_backends():
            kept = {name: table for name, table in backend.tables.items() if name in keep}
            backend.reset()  # also drops backups, exports, resource policies and other tables
            for name, table in kept.items():
                table.items.clear()
                backend.tables[name] = table


def table_names() -> set[str]:
    """Every DynamoDB table moto holds now, in any account and region."""
    names: set[str] = set()
    for service in BackendDict._instances:
        if service.service_name == "dynamodb":
            for _account, _region, backend in service.iter_backends():
                names |= set(backend.tables)
    return names


def intercepting(on: bool) -> None:
    """Send AWS calls to moto (on) or let them go out as without moto (off, between tests).

    moto stays started for the whole session; only a test that asks for it (the ``aws`` fixture)
    has its calls answered, so a test that reaches AWS without asking fails as it always did.
    """
    botocore_stubber.enabled = on
