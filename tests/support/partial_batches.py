"""A DynamoDB client that answers batches partially, as DynamoDB does under throttling (for tests)."""

from __future__ import annotations

from typing import Any


class Flaky:
    """The real client, but chosen PartiQL statements answer an error instead of being sent, and chosen
    BatchGetItem keys come back unprocessed (not read), as DynamoDB does under throttling. moto applies a
    PartiQL UPDATE whatever its WHERE says, so statements of ``refuse`` answer ConditionalCheckFailed here."""

    def __init__(self, real: Any, fail: dict[str, int], code: str = "ThrottlingError", unread: int = 0,
                 refuse: frozenset[str] = frozenset()) -> None:
        self.real, self.fail, self.code, self.unread, self.refuse = real, fail, code, unread, refuse
        self.sent: list[list[str]] = []  # lead ids of each BatchExecuteStatement call
        self.gets = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def batch_execute_statement(self, Statements: list[dict[str, Any]], **params: Any) -> dict[str, Any]:
        ids = [lead_of(statement) for statement in Statements]
        self.sent.append(ids)
        errors: dict[int, str] = {}
        for index, lead_id in enumerate(ids):
            if self.fail.get(lead_id, 0) > 0:
                self.fail[lead_id] -= 1
                errors[index] = self.code
            elif lead_id in self.refuse:
                errors[index] = "ConditionalCheckFailed"
        kept = [statement for index, statement in enumerate(Statements) if index not in errors]
        answer = self.real.batch_execute_statement(Statements=kept, **params) if kept else {"Responses": []}
        applied = iter(answer["Responses"])
        return {**answer, "Responses": [{"Error": {"Code": errors[index], "Message": "injected"}} if index in errors
                                        else next(applied) for index in range(len(ids))]}

    def batch_get_item(self, RequestItems: dict[str, Any], **params: Any) -> dict[str, Any]:
        self.gets += 1
        if self.unread <= 0:
            return self.real.batch_get_item(RequestItems=RequestItems, **params)
        self.unread -= 1
        asked, held = {}, {}
        for table, request in RequestItems.items():
            keys = request["Keys"]
            asked[table] = {**request, "Keys": keys[: len(keys) // 2]}
            held[table] = {**request, "Keys": keys[len(keys) // 2 :]}
        answer = self.real.batch_get_item(RequestItems={t: r for t, r in asked.items() if r["Keys"]}, **params) \
            if any(r["Keys"] for r in asked.values()) else {"Responses": {}}
        return {**answer, "UnprocessedKeys": {t: r for t, r in held.items() if r["Keys"]}}


def lead_of(statement: dict[str, Any]) -> str:
    return str(statement["Parameters"][-2]["S"])  # ... WHERE lead_id=? AND version=?


def install(monkeypatch: Any, fail: dict[str, int], **options: Any) -> Flaky:
    """Make :mod:`chalicelib.store.batch` use a :class:`Flaky` client over the real one, without backoff sleeps."""
    from chalicelib.store import batch

    real = getattr(batch._client, "real_client", batch._client)
    fake = Flaky(real(), fail, **options)

    def client() -> Flaky:
        return fake

    client.real_client = real  # type: ignore[attr-defined]
    monkeypatch.setattr(batch, "_client", client)
    monkeypatch.setattr(batch, "_backoff", lambda attempt: None)
    return fake
