"""How the human-readable formats name a lock."""

from __future__ import annotations

from zdlint.locks import lock_mode


def lock_description(name: str) -> str:
    """`ACCESS EXCLUSIVE (blocks reads and writes)` for a pg_locks mode name."""
    try:
        mode = lock_mode(name)
    except KeyError:
        return name
    return f"{mode.sql_name} (blocks {mode.blocks})"
