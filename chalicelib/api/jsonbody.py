"""Strict JSON parsing of request bodies: size, encoding, duplicates, constants, Unicode."""

from __future__ import annotations

import json
import math
from typing import Any

from chalicelib.errors import InvalidJson, PayloadTooLarge, ValidationFailed

MAX_BODY_BYTES = 64 * 1024
MAX_DEPTH = 16
MAX_INT_CHARS = 20  # a sign and 19 digits: whatever fits in 64 bits; JSON numbers past that do not travel well


def _refuse_constant(name: str) -> None:
    raise InvalidJson("NaN and Infinity are not JSON.")


def _bounded_int(text: str) -> int:
    """Integers of at most 64 bits' width (int() refuses more than 4300 digits, with a ValueError)."""
    if len(text) > MAX_INT_CHARS:
        raise ValidationFailed("Numbers in the body must fit in 64 bits.")
    return int(text)


def _finite_float(text: str) -> float:
    """1e400 reads as infinity, which no JSON answer could carry back."""
    value = float(text)
    if not math.isfinite(value):
        raise ValidationFailed("Numbers in the body must be finite.")
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise InvalidJson("The body repeats a key.")
        result[key] = value
    return result


def parse_body(raw: bytes | None) -> dict[str, Any]:
    """Parse a request body into a JSON object, or raise the contract's 400/413."""
    raw = raw or b""
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge()
    if not raw.strip():
        return {}
    try:
        text = raw.decode("utf-8")
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant,
                           parse_int=_bounded_int, parse_float=_finite_float)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise InvalidJson() from None
    if not isinstance(value, dict):
        raise ValidationFailed("The body must be a JSON object.")
    _check_values(value, depth=0)
    return value


def _check_values(value: Any, depth: int) -> None:
    """Refuse deep nesting and strings no store could keep (lone surrogates, NUL)."""
    if depth > MAX_DEPTH:
        raise ValidationFailed("The body is nested too deeply.")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_string(key)
            _check_values(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_values(item, depth + 1)
    elif isinstance(value, str):
        _check_string(value)


def _check_string(text: str) -> None:
    if "\x00" in text:
        raise ValidationFailed("Text may not contain NUL characters.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationFailed("Text must be valid Unicode (no lone surrogates).") from None
