"""PostgreSQL table-level lock modes: their names, their order and what each blocks."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LockMode:
    name: str  # as in pg_locks.mode
    sql_name: str  # as in the documentation and LOCK TABLE
    strength: int  # 1 (weakest) .. 8 (strongest)
    blocks: str  # what a user notices while it is held


LOCK_MODES: dict[str, LockMode] = {
    m.name: m
    for m in (
        LockMode("AccessShareLock", "ACCESS SHARE", 1, "only ACCESS EXCLUSIVE requests"),
        LockMode("RowShareLock", "ROW SHARE", 2, "EXCLUSIVE and ACCESS EXCLUSIVE requests"),
        LockMode(
            "RowExclusiveLock", "ROW EXCLUSIVE", 3, "SHARE and stronger locks, that is most DDL"
        ),
        LockMode(
            "ShareUpdateExclusiveLock",
            "SHARE UPDATE EXCLUSIVE",
            4,
            "other DDL and VACUUM, but not reads or writes",
        ),
        LockMode("ShareLock", "SHARE", 5, "writes (INSERT, UPDATE, DELETE)"),
        LockMode("ShareRowExclusiveLock", "SHARE ROW EXCLUSIVE", 6, "writes"),
        LockMode("ExclusiveLock", "EXCLUSIVE", 7, "writes and SELECT FOR UPDATE"),
        LockMode("AccessExclusiveLock", "ACCESS EXCLUSIVE", 8, "reads and writes"),
    )
}


# Every spelling `lock_mode` accepts, normalised: pg_locks names and SQL names.
_BY_KEY = {key: mode for mode in LOCK_MODES.values() for key in (mode.name.upper(), mode.sql_name)}


def lock_mode(name: str) -> LockMode:
    """Look a mode up by its pg_locks name or its SQL name, in any case."""
    mode = LOCK_MODES.get(name)  # the usual case: a pg_locks name as the catalogue has it
    if mode is None:
        mode = _BY_KEY.get(name.replace("_", " ").strip().upper())
    if mode is None:
        raise KeyError(f"unknown lock mode {name!r}")
    return mode


def blocks_traffic(name: str) -> bool:
    """True when the mode blocks ordinary writes (SHARE or stronger)."""
    return lock_mode(name).strength >= LOCK_MODES["ShareLock"].strength
