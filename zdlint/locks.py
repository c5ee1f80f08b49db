"""PostgreSQL table-level lock modes: their names, their order, which conflict, and
what a request for each blocks.

The conflict table is PostgreSQL's ("Conflicting Lock Modes" in the documentation on
explicit locking). Everything else about what a lock blocks is derived from it: ordinary
traffic takes the three weakest modes, so a mode blocks the traffic whose mode it
conflicts with, both while it is held and while it waits in the queue (a queued request
makes every later conflicting request wait behind it).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache


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

# Which modes conflict with which: PostgreSQL's table, row by row (it is symmetric).
CONFLICTS: dict[str, frozenset[str]] = {
    "AccessShareLock": frozenset({"AccessExclusiveLock"}),
    "RowShareLock": frozenset({"ExclusiveLock", "AccessExclusiveLock"}),
    "RowExclusiveLock": frozenset(
        {"ShareLock", "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock"}
    ),
    "ShareUpdateExclusiveLock": frozenset(
        {
            "ShareUpdateExclusiveLock",
            "ShareLock",
            "ShareRowExclusiveLock",
            "ExclusiveLock",
            "AccessExclusiveLock",
        }
    ),
    "ShareLock": frozenset(
        {
            "RowExclusiveLock",
            "ShareUpdateExclusiveLock",
            "ShareRowExclusiveLock",
            "ExclusiveLock",
            "AccessExclusiveLock",
        }
    ),
    "ShareRowExclusiveLock": frozenset(
        {
            "RowExclusiveLock",
            "ShareUpdateExclusiveLock",
            "ShareLock",
            "ShareRowExclusiveLock",
            "ExclusiveLock",
            "AccessExclusiveLock",
        }
    ),
    "ExclusiveLock": frozenset(LOCK_MODES) - {"AccessShareLock"},
    "AccessExclusiveLock": frozenset(LOCK_MODES),
}


@dataclass(frozen=True)
class Traffic:
    """A kind of ordinary query and the lock it takes on the tables it touches."""

    mode: str
    kind: str  # how messages name it


# What applications run all day, weakest first. A lock that conflicts with none of these
# only makes other DDL and VACUUM wait.
TRAFFIC = (
    Traffic("AccessShareLock", "reads"),  # SELECT
    Traffic("RowShareLock", "SELECT FOR UPDATE"),  # also FOR SHARE and foreign key checks
    Traffic("RowExclusiveLock", "writes"),  # INSERT, UPDATE, DELETE, MERGE
)


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


def conflicts(a: str, b: str) -> bool:
    """True when a lock in mode `a` and one in mode `b` cannot be held together."""
    return lock_mode(b).name in CONFLICTS[lock_mode(a).name]


def covers(held: str, wanted: str) -> bool:
    """True when holding `held` means a request for `wanted` waits for nobody: every
    lock that conflicts with `wanted` already conflicts with `held`."""
    return CONFLICTS[lock_mode(wanted).name] <= CONFLICTS[lock_mode(held).name]


@cache  # asked for every lock of every statement; the table of modes never changes
def traffic_blocked(name: str) -> tuple[Traffic, ...]:
    """The ordinary queries a lock in this mode blocks, held or queued."""
    return tuple(t for t in TRAFFIC if conflicts(name, t.mode))


def blocks_traffic(name: str) -> bool:
    """True when the mode blocks ordinary writes: everything from SHARE up."""
    return conflicts(name, "RowExclusiveLock")


@cache
def queues_traffic(name: str) -> bool:
    """True when a request in this mode, while it waits, holds up some ordinary query:
    such a request needs a lock_timeout."""
    return bool(traffic_blocked(name))


def traffic_text(name: str) -> tuple[str, str]:
    """What queues behind a waiting request in this mode, and what still goes past it:
    ("writes", "reads") for SHARE, ("reads and writes", "") for ACCESS EXCLUSIVE."""
    blocked = {t.mode for t in traffic_blocked(name)}
    if TRAFFIC[0].mode in blocked:  # reads wait: so does everything else
        return "reads and writes", ""
    queued = " and ".join(t.kind for t in reversed(TRAFFIC) if t.mode in blocked)
    return queued, ("plain reads" if TRAFFIC[1].mode in blocked else "reads")
