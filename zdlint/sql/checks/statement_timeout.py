"""ZD410: table-sized work with no statement_timeout in effect."""

from __future__ import annotations

from collections.abc import Iterator

from pglast import ast

from zdlint.findings import Hit
from zdlint.sql.long_operations import long_operations
from zdlint.sql.parse import Statement
from zdlint.sql.state import MigrationState


def check(stmt: Statement, state: MigrationState) -> Iterator[Hit]:
    """Report the first such statement of each stretch without a statement_timeout."""
    if state.statement_timeout_ms is not None or state.long_operation_without_statement_timeout:
        return
    ops = long_operations(stmt.node, state)
    if ops:
        yield Hit({"what": ops[0].what, "table": ops[0].display})


CHECKS = [
    (
        "ZD410",
        [
            ast.AlterTableStmt,
            ast.IndexStmt,
            ast.UpdateStmt,
            ast.DeleteStmt,
            ast.InsertStmt,
            ast.VacuumStmt,
            ast.ClusterStmt,
            ast.ReindexStmt,
            ast.RefreshMatViewStmt,
            ast.AlterDomainStmt,
        ],
        check,
    )
]
