"""ZD407 / ZD408 / ZD409: what else runs while a transaction holds a DDL lock.

A lock is held until COMMIT, so everything after the DDL in the same transaction runs
with the table blocked: a backfill (ZD407), DDL on a second table (ZD408), or any other
real work (ZD409, reported once per transaction). The three never report the same
statement.
"""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import AlterTableType

from zdlint.findings import Hit
from zdlint.locks import blocks_traffic, lock_mode
from zdlint.sql.long_operations import long_operations, work_under_lock
from zdlint.sql.names import relation_name
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState


def _listed(tables: set[str] | list[str]) -> str:
    return ", ".join(f"`{t}`" for t in sorted(tables))


def _validates_constraint_added_here(node: ast.Node | None, state: MigrationState) -> bool:
    if not isinstance(node, ast.AlterTableStmt):
        return False
    table = relation_name(node.relation)
    return any(
        cmd.subtype == AlterTableType.AT_ValidateConstraint
        and (table, cmd.name) in state.not_valid_in_transaction
        for cmd in node.cmds or ()
    )


def backfill_after_ddl(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    if not state.in_transaction:
        return
    blocking = {t: m for t, m in state.ddl_locks.items() if blocks_traffic(m)}
    if not blocking:
        return
    for op in long_operations(stmt.node, state):
        if op.data_change:
            lock = max(blocking.values(), key=lambda m: lock_mode(m).strength)
            locked = [t for t, m in blocking.items() if m == lock]
            yield Hit(
                {"statement": op.what, "table": op.display, "locked": _listed(locked)},
                lock=lock,
            )
            return


def _second_tables(stmt: Statement, state: MigrationState) -> tuple[list[str], set[str]]:
    """(relations this statement locks, relations already locked) when the statement
    takes ACCESS EXCLUSIVE on a relation with traffic while the transaction holds it on
    another one; ([], set()) otherwise. Only relations with traffic count
    (`MigrationState.traffic_tables`)."""
    if not state.in_transaction:
        return [], set()
    new = state.traffic_tables(stmt.node)
    held = state.access_exclusive_traffic
    if held:
        return new, held
    if len(new) > 1:
        return new[1:], set(new[:1])
    return [], set()


def several_tables(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    locked, held = _second_tables(stmt, state)
    if locked:
        yield Hit({"table": _listed(locked), "held": _listed(held)})


def work_after_lock(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    if not state.in_transaction or not state.access_exclusive:
        return
    if state.worked_under_access_exclusive:
        return  # once per transaction
    node = stmt.node
    if any(op.data_change for op in long_operations(node, state)):
        return  # ZD407 reports backfills
    if _second_tables(stmt, state)[0]:
        return  # ZD408 reports a second ACCESS EXCLUSIVE table
    if _validates_constraint_added_here(node, state):
        return  # ZD403 reports validating in the transaction that added NOT VALID
    work = work_under_lock(node, state)
    if work:
        held = state.access_exclusive
        yield Hit({"work": work[0].upper() + work[1:], "held": _listed(held)}, tables=tuple(held))


_DATA_CHANGES = [ast.UpdateStmt, ast.DeleteStmt, ast.InsertStmt]
_DDL = [
    ast.AlterTableStmt,
    ast.RenameStmt,
    ast.DropStmt,
    ast.TruncateStmt,
    ast.ClusterStmt,
    ast.VacuumStmt,
    ast.RefreshMatViewStmt,
    ast.LockStmt,
    ast.RuleStmt,
]
_WORK = [
    *_DATA_CHANGES,
    *_DDL,
    ast.IndexStmt,
    ast.ReindexStmt,
    # CREATE TABLE … REFERENCES waits for its parent's lock; CREATE TABLE AS runs a query
    ast.CreateStmt,
    ast.CreateTableAsStmt,
    ast.CreateTrigStmt,
    ast.AlterDomainStmt,
    ast.SelectStmt,
    ast.DoStmt,
    ast.CallStmt,
]

CHECKS = [
    ("ZD407", _DATA_CHANGES, backfill_after_ddl),
    ("ZD408", _DDL, several_tables),
    ("ZD409", _WORK, work_after_lock),
]
