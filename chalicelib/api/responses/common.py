"""Pieces every response model shares: the base, optional keys, the contract's error, health and ``/v1/me``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

Role = Literal["widget", "agent", "admin"]


class View(BaseModel):
    """A response object: its documented keys and no others (``additionalProperties: false``)."""

    model_config = ConfigDict(extra="forbid")


class OpenView(BaseModel):
    """A response object that may carry more keys than the documented ones (event details, exports)."""

    model_config = ConfigDict(extra="allow")


def _drop_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def absent() -> Any:
    """A key that is left out when it has no value (rather than sent as null); use with ``SkipJsonSchema[None]``."""
    return Field(default=None, json_schema_extra=_drop_default)


class ErrorDetail(OpenView):
    field: str
    problem: str


class ErrorInfo(View):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="snake_case, fixed per failure")
    message: str = Field(description="Human text; never echoes submitted personal data")
    details: list[ErrorDetail] | SkipJsonSchema[None] = absent()


class Error(View):
    """Every error of every route: ``{"error": {"code", "message", "details"?}}``."""

    error: ErrorInfo


class Health(View):
    status: Literal["ok"]


class Me(View):
    key_id: str
    tenant_id: str
    role: Role
    agent_id: str | None
