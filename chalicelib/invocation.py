"""Per-invocation scope: caches that live for one Lambda call and no longer.

Unwrapped data keys, tenant secrets and loaded tenants are cached here so a request pays for
each at most once, and a warm Lambda never keeps them for the next caller.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

_SCOPE: ContextVar[dict[str, Any] | None] = ContextVar("leadvault_invocation", default=None)


@contextmanager
def invocation() -> Iterator[dict[str, Any]]:
    """Open a fresh scope; nested calls reuse the outer one."""
    current = _SCOPE.get()
    if current is not None:
        yield current
        return
    from chalicelib.store import bind_tables
    scope: dict[str, Any] = {}
    token = _SCOPE.set(scope)
    try:
        bind_tables()
        yield scope
    finally:
        scope.clear()
        _SCOPE.reset(token)


def cached(name: str, factory: Callable[[], T]) -> T:
    """Return the scope's value for ``name``, building it once; outside a scope, build every time."""
    scope = _SCOPE.get()
    if scope is None:
        return factory()
    if name not in scope:
        scope[name] = factory()
    return scope[name]


def forget(name: str) -> None:
    """Drop one cached value (after a key is destroyed, say)."""
    scope = _SCOPE.get()
    if scope is not None:
        scope.pop(name, None)


def peek(name: str) -> Any:
    """The scope's value for ``name`` if there is one, else None; never builds."""
    scope = _SCOPE.get()
    return None if scope is None else scope.get(name)


def put(name: str, value: Any) -> None:
    """Set a value for the rest of the invocation; outside one it would be lost, so that is an error."""
    scope = _SCOPE.get()
    if scope is None:
        raise RuntimeError("no invocation scope: wrap the call in chalicelib.invocation.invocation()")
    scope[name] = value
