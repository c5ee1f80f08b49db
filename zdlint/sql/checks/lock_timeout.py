"""ZD401: DDL on an existing table with no lock_timeout; ZD404: a lock_timeout too long."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast
from pglast.enums import VariableSetKind

from zdlint.findings import Hit
from zdlint.sql.locking import ddl_tables, statement_lock
from zdlint.sql.names import const_string
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState
from zdlint.sql.timeouts import format_ms, parse_duration_ms


def missing(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    """Report the first such statement of each stretch without a lock_timeout."""
    if state.lock_timeout_ms is not None or state.ddl_without_lock_timeout:
        return
    waiting = [
        t
        for t in ddl_tables(stmt.node)
        if not state.is_new_table(t) and not state.holds_access_exclusive(t)
    ]
    if waiting:
        yield Hit({"table": waiting[0]}, lock=statement_lock(stmt.node))


def too_long(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    node = stmt.node
    assert isinstance(node, ast.VariableSetStmt)
    if (node.name or "").lower() != "lock_timeout" or node.kind != VariableSetKind.VAR_SET_VALUE:
        return
    text = const_string(node.args[0]) if node.args else None
    if text is None:
        return
    try:
        value = parse_duration_ms(text)
    except ValueError:
        return
    if value > state.max_lock_timeout_ms:
        yield Hit({"value": format_ms(value), "maximum": format_ms(state.max_lock_timeout_ms)})


_DDL_TYPES = [
    ast.AlterTableStmt,
    ast.IndexStmt,
    ast.CreateTrigStmt,
    ast.RuleStmt,
    ast.RenameStmt,
    ast.DropStmt,
    ast.TruncateStmt,
    ast.ReindexStmt,
    ast.ClusterStmt,
    ast.RefreshMatViewStmt,
    ast.LockStmt,
]

CHECKS = [
    ("ZD401", _DDL_TYPES, missing),
    ("ZD404", [ast.VariableSetStmt], too_long),
]
