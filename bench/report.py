"""One JSON line per figure, so results can be diffed and collected by tools."""

from __future__ import annotations

import json
from typing import Any


def figure(name: str, value: float | int, **context: Any) -> None:
    print(json.dumps({"figure": name, "value": value, **context}, sort_keys=True), flush=True)
