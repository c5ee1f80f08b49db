"""What a backend holds and what happened to relations: the queries behind a trace.

Only user relations count: everything initdb creates (catalogs, `pg_locks` itself,
information_schema) has an OID below 16384, and TOAST relations are left out.
None of these queries takes a lock on a user relation.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

FIRST_USER_OID = 16384

LockKey = tuple[int, str]  # (relation OID, pg_locks mode)


@dataclass(frozen=True)
class Relations:
    """User relations at one moment: names and storage files."""

    names: dict[int, str]
    filenodes: dict[int, int]  # only relations with storage (tables, indexes, matviews)
    tables: frozenset[int]  # ordinary and partitioned tables

    def name(self, oid: int, *others: Relations) -> str | None:
        for snapshot in (self, *others):
            if oid in snapshot.names:
                return snapshot.names[oid]
        return None


_RELATIONS = """
SELECT c.oid::int8, c.oid::regclass::text, c.relkind::text, pg_relation_filenode(c.oid)::int8
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid >= %s AND n.nspname NOT LIKE 'pg\\_toast%%' AND c.relkind <> 't'
"""


def relations(conn: psycopg.Connection) -> Relations:
    names: dict[int, str] = {}
    filenodes: dict[int, int] = {}
    tables: set[int] = set()
    for oid, name, kind, filenode in conn.execute(_RELATIONS, (FIRST_USER_OID,)):
        names[oid] = name
        if filenode and kind in ("r", "i", "m"):
            filenodes[oid] = filenode
        if kind in ("r", "p"):
            tables.add(oid)
    return Relations(names, filenodes, frozenset(tables))


def rewritten(before: Relations, after: Relations) -> list[int]:
    """Relations whose storage file changed (a rewrite, or TRUNCATE)."""
    return [
        oid
        for oid, node in before.filenodes.items()
        if oid in after.filenodes and after.filenodes[oid] != node
    ]


_LOCKS = """
SELECT relation::int8, mode FROM pg_locks
WHERE locktype = 'relation' AND pid = %s AND relation >= %s
"""


def held_locks(conn: psycopg.Connection, pid: int | None = None) -> set[LockKey]:
    """Relation locks of backend `pid` (default: this connection's own backend)."""
    backend = pid if pid is not None else conn.info.backend_pid
    return {(oid, mode) for oid, mode in conn.execute(_LOCKS, (backend, FIRST_USER_OID))}


# Counters of the current transaction that are not yet flushed to the shared statistics:
# exact and immediate for statements that run inside a transaction we control.
_XACT_SCANS = "SELECT relid::int8, seq_scan, seq_tup_read FROM pg_stat_xact_user_tables"
_SHARED_SCANS = "SELECT relid::int8, seq_scan, seq_tup_read FROM pg_stat_user_tables"

ScanCounts = dict[int, tuple[int, int]]


def transaction_scans(conn: psycopg.Connection) -> ScanCounts:
    return {oid: (scans or 0, rows or 0) for oid, scans, rows in conn.execute(_XACT_SCANS)}


def shared_scans(conn: psycopg.Connection) -> ScanCounts | None:
    """Shared scan counters after flushing this backend's pending ones (PostgreSQL 15+).

    A statement that commits on its own (CONCURRENTLY) leaves its counters pending in
    the backend; `pg_stat_force_next_flush()` makes the backend flush them before it
    reports idle, so the next query sees them. Older servers flush through the stats
    collector with a delay we cannot wait out reliably: None.
    """
    if conn.info.server_version < 150000:
        return None
    conn.execute("SELECT pg_stat_force_next_flush()")
    return {oid: (scans or 0, rows or 0) for oid, scans, rows in conn.execute(_SHARED_SCANS)}


def scanned(before: ScanCounts, after: ScanCounts) -> list[int]:
    """Tables with more sequential scans after than before."""
    return [oid for oid, (scans, _) in after.items() if scans > before.get(oid, (0, 0))[0]]


def lock_timeout_ms(conn: psycopg.Connection) -> int:
    """The lock_timeout in effect, in milliseconds (0: wait forever)."""
    row = conn.execute(
        "SELECT setting::int FROM pg_settings WHERE name = 'lock_timeout'"
    ).fetchone()
    return int(row[0]) if row else 0
