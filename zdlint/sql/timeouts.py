"""PostgreSQL duration settings (`lock_timeout = '3s'`) read as milliseconds."""

from __future__ import annotations

import re

_UNITS_MS = {"us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
_DURATION = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)?\s*$", re.I)


def parse_duration_ms(value: str | int | float) -> float:
    """Milliseconds of a setting value; a bare number is milliseconds, as Postgres reads it.

    Raises ValueError for text Postgres would reject.
    """
    if isinstance(value, (int, float)):
        return float(value)
    match = _DURATION.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a duration (expected e.g. 500ms, 3s, 1min)")
    number, unit = float(match.group(1)), (match.group(2) or "ms").lower()
    return number * _UNITS_MS[unit]


def format_ms(ms: float) -> str:
    if ms >= 1000 and ms % 1000 == 0:
        return f"{int(ms // 1000)}s"
    return f"{ms:g}ms"
