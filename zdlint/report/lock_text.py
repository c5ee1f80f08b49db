"""How the human-readable formats name a lock."""

from __future__ import annotations

from functools import lru_cache

from zdlint.locks import lock_mode


@lru_cache(maxsize=64)  # a report names the same few modes thousands of times
def lock_description(name: str) -> str:
    """`ACCESS EXCLUSIVE (blocks reads and writes)` for a pg_locks mode name."""
    try:
        mode = lock_mode(name)
    except KeyError:
        return name
    return f"{mode.sql_name} (blocks {mode.blocks})"
